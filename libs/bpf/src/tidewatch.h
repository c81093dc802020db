/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Record layouts shared by the kernel programs (*.bpf.c) and the native addon.
 * Plain C types only: this header is included by clang -target bpf and by g++.
 * Every struct is naturally aligned with explicit padding so both sides agree
 * byte for byte. Change a layout here and both sides change together.
 */
#ifndef TIDEWATCH_H
#define TIDEWATCH_H

#ifdef __BPF__
typedef unsigned char tw_u8;
typedef unsigned short tw_u16;
typedef unsigned int tw_u32;
typedef unsigned long long tw_u64;
#else
#include <stdint.h>
typedef uint8_t tw_u8;
typedef uint16_t tw_u16;
typedef uint32_t tw_u32;
typedef uint64_t tw_u64;
#endif

/* Interfaces the agent can watch at once; slot 0 is "not registered". */
#define TW_MAX_IFACES 256

/*
 * An ifindex below this has its slot in tw_ifslot_direct (an array: one load
 * per packet, inlined by the verifier); larger ones are in tw_ifslots (a hash).
 */
#define TW_IFSLOT_DIRECT 4096

/* Write-combining slots per CPU in front of each flow table (a power of two). */
#define TW_FLOW_PEND_SLOTS 64

enum tw_direction {
	TW_DIR_INGRESS = 0,
	TW_DIR_EGRESS = 1,
	TW_DIR_MAX = 2,
};

/* Address family class of a packet. */
enum tw_family {
	TW_FAM_IPV4 = 0,
	TW_FAM_IPV6 = 1,
	TW_FAM_OTHER = 2, /* ARP and anything that is not IP */
	TW_FAM_MAX = 3,
};

/* Protocol class of a packet. */
enum tw_proto_class {
	TW_PROTO_TCP = 0,
	TW_PROTO_UDP = 1,
	TW_PROTO_ICMP = 2,
	TW_PROTO_ICMPV6 = 3,
	TW_PROTO_OTHER = 4,
	TW_PROTO_MAX = 5,
};

/*
 * Index into tw_traffic (per-CPU array of struct tw_traffic_value):
 * ((slot * TW_DIR_MAX + dir) * TW_FAM_MAX + family) * TW_PROTO_MAX + proto
 */
#define TW_TRAFFIC_ENTRIES (TW_MAX_IFACES * TW_DIR_MAX * TW_FAM_MAX * TW_PROTO_MAX)

struct tw_traffic_value {
	tw_u64 packets; /* wire packets: gso_segs for GSO skbs, else 1 */
	tw_u64 bytes; /* skb->len at the TC hook */
};

/* Bits of tw_config[TW_CFG_FLOWS]. */
#define TW_FLOWS_TABLE_B 1 /* 0: tw_flows_a takes updates, 1: tw_flows_b */
#define TW_FLOWS_ON 2 /* 0: no per-flow records (the counters stay) */

/* Keys of tw_config (array of __u64), written by user space before attach. */
enum tw_config_key {
	/*
	 * Flow records, one word so a packet reads one value: TW_FLOWS_TABLE_B
	 * (the drain flips only it) and TW_FLOWS_ON (setFlowsEnabled flips only
	 * it); key 1 is unused (it was the on bit's own key).
	 */
	TW_CFG_FLOWS = 0,
	TW_CFG_KFREE_REASON_OFF = 2, /* offset of "reason" in skb/kfree_skb, 0: none */
	TW_CFG_EVENTS_ENABLED = 3, /* 0 disables connection-close events */
	/*
	 * Tracepoint layouts that moved between kernels, parsed by user space
	 * from /sys/kernel/tracing/events/<event>/format; 0 means the layout of
	 * 5.13+ (the offsets in parentheses).
	 */
	TW_CFG_SOCK_SADDR6_OFF = 4, /* inet_sock_set_state saddr_v6 (40; 39 on 4.16-5.5) */
	TW_CFG_RETRANS_SPORT_OFF = 5, /* tcp_retransmit_skb sport (28; 24 on 4.15-4.19) */
	TW_CFG_RETRANS_SADDR6_OFF = 6, /* tcp_retransmit_skb saddr_v6 (42; 36 on 4.19) */
	TW_CFG_MAX = 8,
};

/* Keys of tw_errors (per-CPU array of __u64): kernel-side failures, counted. */
enum tw_error_key {
	TW_ERR_FLOW_TABLE_FULL = 0, /* flow insert failed: table full (-E2BIG) */
	TW_ERR_FLOW_UPDATE = 1, /* flow insert failed for another reason */
	TW_ERR_CONN_TABLE_FULL = 2, /* connection-start insert failed */
	TW_ERR_EVENT_LOST = 3, /* perf/ring buffer output failed */
	TW_ERR_RETRANS_TABLE_FULL = 4, /* retransmit-per-flow insert failed */
	TW_ERR_DROP_TABLE_FULL = 5, /* drop-reason insert failed */
	TW_ERR_PARSE_TRUNCATED = 6, /* headers shorter than they claim */
	TW_ERR_TP_LAYOUT = 7, /* a tracepoint field could not be read at its tw_config offset */
	TW_ERR_MAX = 8,
};

/* Keys of tw_tcp_stats (per-CPU array of __u64), from sock/inet_sock_set_state etc. */
enum tw_tcp_stat_key {
	TW_TCP_OPENED_CLIENT = 0, /* SYN_SENT -> ESTABLISHED */
	TW_TCP_OPENED_SERVER = 1, /* SYN_RECV -> ESTABLISHED */
	TW_TCP_FAILED = 2, /* SYN_SENT -> CLOSE (refused, timed out) */
	TW_TCP_CLOSED = 3, /* a connection that was ESTABLISHED reached CLOSE */
	TW_TCP_RETRANSMITS = 4, /* tcp/tcp_retransmit_skb */
	TW_TCP_DROPS = 5, /* skb/kfree_skb: every dropped skb, not only TCP */
	TW_TCP_CLOSED_UNSEEN = 6, /* part of CLOSED whose open was not seen (before load) */
	TW_TCP_STAT_MAX = 8,
};

/*
 * sport of the flow record of an ICMP port unreachable quoting a UDP datagram
 * (type | code << 8, never below 256 like an ordinary ICMP record's type); its
 * dport is the quoted datagram's destination port, the port that was refused.
 */
enum tw_icmp_port_unreach {
	TW_ICMP_PORT_UNREACH = 771, /* ICMPv4 type 3 code 3 */
	TW_ICMPV6_PORT_UNREACH = 1025, /* ICMPv6 type 1 code 4 */
};

/*
 * Key of the flow hashes tw_flows_a / tw_flows_b. Addresses are 16 bytes:
 * IPv4 uses the first 4. Unknown fields are zero (ports of non-TCP/UDP and
 * of non-first fragments; the ICMP type/code go in sport/dport, except for a
 * port unreachable quoting UDP: enum tw_icmp_port_unreach).
 */
struct tw_flow_key {
	tw_u32 ifindex;
	tw_u8 direction; /* enum tw_direction */
	tw_u8 family; /* enum tw_family */
	tw_u8 ip_proto; /* IPPROTO_* number, 0 for non-IP */
	tw_u8 pad;
	tw_u8 saddr[16];
	tw_u8 daddr[16];
	tw_u16 sport; /* host byte order */
	tw_u16 dport; /* host byte order */
};

struct tw_flow_value {
	tw_u64 packets;
	tw_u64 bytes;
	tw_u64 first_seen_ns; /* bpf_ktime_get_ns() (CLOCK_MONOTONIC) */
	tw_u64 last_seen_ns;
	tw_u32 syn; /* packets with SYN set */
	tw_u32 fin;
	tw_u32 rst;
	tw_u8 tcp_flags; /* OR of the TCP flags seen */
	tw_u8 pad[3];
};

/*
 * Value of tw_flow_pend (per-CPU array; key: table * TW_FLOW_PEND_SLOTS +
 * slot, table 0 in front of tw_flows_a, 1 of tw_flows_b). key.ifindex != 0:
 * the slot holds that flow, which has an entry in its table, and packets,
 * bytes and tcp_flags are counts of it not yet added there. Written only by
 * its CPU's TC programs while its table is active; user space adds an idle
 * table's slots to what it drains from that table, then zeroes them.
 */
struct tw_flow_pend {
	struct tw_flow_key key;
	tw_u8 tcp_flags; /* OR of the flags of the pending packets (never SYN/FIN/RST) */
	tw_u8 pad[3];
	tw_u64 packets;
	tw_u64 bytes;
};

/* Key of tw_retrans (hash): a TCP 4-tuple; value is a __u64 count. */
struct tw_tuple_key {
	tw_u8 family; /* enum tw_family */
	tw_u8 pad[3];
	tw_u8 saddr[16];
	tw_u8 daddr[16];
	tw_u16 sport; /* host byte order */
	tw_u16 dport; /* host byte order */
};

/* Value of tw_conn_start (hash keyed by the socket address, a __u64). */
struct tw_conn_start_value {
	tw_u64 start_ns; /* bpf_ktime_get_ns() when it became ESTABLISHED */
	tw_u8 role; /* 0: client, 1: server */
	tw_u8 pad[7];
};

/* Connection-close events on tw_events (perf buffer, or ring buffer). */
enum tw_event_kind {
	TW_EV_CONN_CLOSED = 1, /* an established connection reached CLOSE */
	TW_EV_CONN_FAILED = 2, /* a connect never reached ESTABLISHED */
};

struct tw_conn_event {
	tw_u32 kind; /* enum tw_event_kind */
	tw_u8 family; /* enum tw_family */
	tw_u8 role; /* 0: client (we connected), 1: server (we accepted), 2: unknown */
	tw_u8 pad[2];
	tw_u64 timestamp_ns; /* bpf_ktime_get_ns() at the event */
	tw_u64 duration_ns; /* ESTABLISHED -> CLOSE, 0 when unknown */
	tw_u8 saddr[16]; /* local address */
	tw_u8 daddr[16]; /* remote address */
	tw_u16 sport; /* local port, host byte order */
	tw_u16 dport; /* remote port, host byte order */
	tw_u32 pad2;
};

#endif /* TIDEWATCH_H */

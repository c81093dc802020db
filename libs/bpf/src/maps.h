/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Every map of the Tidewatch programs, in one place. Names are the contract
 * with the addon (it finds maps by name); layouts are in tidewatch.h.
 * BTF-defined maps: libbpf reads these definitions from the object's own BTF,
 * which works on 4.19 too (libbpf skips loading BTF the kernel lacks).
 */
#ifndef TW_MAPS_H
#define TW_MAPS_H

#include "tidewatch.h"

/* Defaults; the addon resizes the flow tables and the ring buffer before load. */
#define TW_FLOW_ENTRIES_DEFAULT 16384
#define TW_CONN_ENTRIES 65536
#define TW_RETRANS_ENTRIES 4096
#define TW_DROP_REASONS 1024
#define TW_RINGBUF_BYTES (256 * 1024)

/* key: enum tw_config_key; value: __u64 knob written by user space before attach */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TW_CFG_MAX);
	__type(key, __u32);
	__type(value, __u64);
} tw_config SEC(".maps");

/* key: ifindex; value: slot 1..TW_MAX_IFACES-1 written at attach (absent: slot 0) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TW_MAX_IFACES);
	__type(key, __u32);
	__type(value, __u32);
} tw_ifslots SEC(".maps");

/* key: ifindex < TW_IFSLOT_DIRECT; value: its slot, 0 when not registered (written at attach) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TW_IFSLOT_DIRECT);
	__type(key, __u32);
	__type(value, __u32);
} tw_ifslot_direct SEC(".maps");

/* key: ((slot*2+dir)*3+family)*5+proto; value: struct tw_traffic_value per CPU */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TW_TRAFFIC_ENTRIES);
	__type(key, __u32);
	__type(value, struct tw_traffic_value);
} tw_traffic SEC(".maps");

/* key: enum tw_error_key; value: __u64 failures per CPU */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TW_ERR_MAX);
	__type(key, __u32);
	__type(value, __u64);
} tw_errors SEC(".maps");

/* key: enum tw_tcp_stat_key; value: __u64 count per CPU */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TW_TCP_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} tw_tcp_stats SEC(".maps");

/*
 * key: struct tw_flow_key; value: struct tw_flow_value, one shared copy
 * updated with atomic adds. Measured against a per-CPU hash (bpf_stats,
 * tw_tc_egress, 64-byte UDP from 2 CPUs, median of 5 runs, kernel 6.18):
 * one flow hit from both CPUs 479 ns atomic vs 468 ns per-CPU, separate
 * flows 467 vs 453 ns -- within the run-to-run spread (440-590 ns), while a
 * per-CPU table costs max_entries * CPUs * 48 bytes (64k flows on 96 CPUs:
 * 300 MB per table). Two tables: user space flips TW_FLOWS_TABLE_B, waits,
 * then drains the idle one.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TW_FLOW_ENTRIES_DEFAULT);
	__type(key, struct tw_flow_key);
	__type(value, struct tw_flow_value);
} tw_flows_a SEC(".maps");

/* key: struct tw_flow_key; value: struct tw_flow_value (the other half of the pair) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TW_FLOW_ENTRIES_DEFAULT);
	__type(key, struct tw_flow_key);
	__type(value, struct tw_flow_value);
} tw_flows_b SEC(".maps");

/* key: table * TW_FLOW_PEND_SLOTS + slot; value: struct tw_flow_pend per CPU (tc_flows.h) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2 * TW_FLOW_PEND_SLOTS);
	__type(key, __u32);
	__type(value, struct tw_flow_pend);
} tw_flow_pend SEC(".maps");

/* key: socket address (skaddr, __u64); value: struct tw_conn_start_value */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TW_CONN_ENTRIES);
	__type(key, __u64);
	__type(value, struct tw_conn_start_value);
} tw_conn_start SEC(".maps");

/* key: struct tw_tuple_key (local, remote); value: __u64 retransmits, atomic adds */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TW_RETRANS_ENTRIES);
	__type(key, struct tw_tuple_key);
	__type(value, __u64);
} tw_retrans SEC(".maps");

/* key: drop reason (enum skb_drop_reason, 0: unknown); value: __u64 drops per CPU */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, TW_DROP_REASONS);
	__type(key, __u32);
	__type(value, __u64);
} tw_drops SEC(".maps");

#ifdef TW_MODERN
/* ring buffer of struct tw_conn_event (5.8+) */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, TW_RINGBUF_BYTES);
} tw_events SEC(".maps");
#else
/* key: CPU number; value: perf event fd, carrying struct tw_conn_event */
struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} tw_events SEC(".maps");
#endif

#endif /* TW_MAPS_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * Tidewatch kernel programs. Built twice from this file: tidewatch.bpf.o for
 * kernels from 4.19 without BTF, and tidewatch.modern.bpf.o (-DTW_MODERN) with
 * the ring buffer and gso_segs. Every program passes traffic unchanged and
 * lets the filters after it run.
 */
#include <linux/pkt_cls.h>

#include "common.h"
#include "parse.h"
#include "tc_counters.h"
#include "tc_flows.h"
#include "tcp_lifecycle.h"
#include "retransmits.h"
#include "drops.h"

static __always_inline int tw_tc(struct __sk_buff *skb, __u32 dir)
{
	/* 8-aligned: it is written and compared in 64-bit words (tc_flows.h) */
	struct tw_flow_key key __attribute__((aligned(8)));
	struct tw_parsed parsed;
	/*
	 * The parse ends on dozens of paths with different constants in
	 * registers. Reading its result back from the stack, where it wrote
	 * it as bytes (unknown to the verifier), lets those paths merge;
	 * without it the 4.19 verifier, which lacks precision tracking, walks
	 * the counting code once per path. Volatile reads: else clang passes
	 * the constants on in registers.
	 */
	const volatile struct tw_parsed *p = &parsed;
	__u64 packets = tw_wire_packets(skb);
	/* read once: each read of skb->ifindex is two loads (skb->dev->ifindex) */
	__u32 ifindex = skb->ifindex;
	__u64 bytes;
	__u32 kind;

	/*
	 * Zeroed, both: 4.19 and 5.10 refuse to read a stack byte no path
	 * wrote (5.12+ allow it for privileged loaders).
	 */
	__builtin_memset(&key, 0, sizeof(key));
	__builtin_memset(&parsed, 0, sizeof(parsed));
	tw_parse(skb, &key, &parsed);
	bytes = tw_wire_bytes(skb, packets, p->hdr_len);
	tw_count_traffic(tw_iface_slot(ifindex), dir, p->family, p->proto, packets, bytes);
	/*
	 * ifindex, direction, family, ip_proto and pad as one 64-bit store,
	 * for the slot hash's word load right after (tw_set_ports says why).
	 */
	kind = dir | (__u32)key.family << 8 | (__u32)key.ip_proto << 16;
	*(tw_word64 *)&key = tw_pack2(ifindex, kind);
	tw_flows_record(&key, packets, bytes, p->tcp_flags);
	/*
	 * UNSPEC, not OK: OK would end classification here and skip the
	 * filters the host already had after ours (policers, shapers).
	 */
	return TC_ACT_UNSPEC;
}

/* Two programs: a TC program cannot tell its direction by itself on 4.19. */
SEC("tc")
int tw_tc_ingress(struct __sk_buff *skb)
{
	return tw_tc(skb, TW_DIR_INGRESS);
}

SEC("tc")
int tw_tc_egress(struct __sk_buff *skb)
{
	return tw_tc(skb, TW_DIR_EGRESS);
}

SEC("tracepoint/sock/inet_sock_set_state")
int tw_tp_sock_state(struct tw_sock_state_ctx *ctx)
{
	return tw_sock_state(ctx);
}

SEC("tracepoint/tcp/tcp_retransmit_skb")
int tw_tp_retransmit(void *ctx)
{
	return tw_retransmit(ctx);
}

SEC("tracepoint/skb/kfree_skb")
int tw_tp_kfree_skb(void *ctx)
{
	return tw_kfree_skb(ctx);
}

/* GPL: bpf_perf_event_output and bpf_probe_read are GPL-only helpers. */
char LICENSE[] SEC("license") = "GPL";

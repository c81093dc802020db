/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-flow records in tw_flows_a / tw_flows_b, whichever tw_config
 * [TW_CFG_ACTIVE_FLOWS] names. A full table is counted, never silent.
 */
#ifndef TW_TC_FLOWS_H
#define TW_TC_FLOWS_H

#include "common.h"
#include "parse.h"

static __always_inline void tw_flow_add(struct tw_flow_value *v, __u64 packets, __u64 bytes,
					__u8 flags, __u64 now)
{
	__sync_fetch_and_add(&v->packets, packets);
	__sync_fetch_and_add(&v->bytes, bytes);
	v->last_seen_ns = now;
	if (!flags)
		return;
	/* 4.19 has no atomic OR; write only when a new flag appears */
	if ((v->tcp_flags & flags) != flags)
		v->tcp_flags |= flags;
	if (flags & TW_TCP_SYN)
		__sync_fetch_and_add(&v->syn, 1);
	if (flags & TW_TCP_FIN)
		__sync_fetch_and_add(&v->fin, 1);
	if (flags & TW_TCP_RST)
		__sync_fetch_and_add(&v->rst, 1);
}

static __always_inline void tw_flow_update(void *flows, const struct tw_flow_key *key,
					   __u64 packets, __u64 bytes, __u8 flags)
{
	__u64 now = bpf_ktime_get_ns();
	struct tw_flow_value *v = bpf_map_lookup_elem(flows, key);
	struct tw_flow_value fresh;
	long err;

	if (v) {
		tw_flow_add(v, packets, bytes, flags, now);
		return;
	}
	__builtin_memset(&fresh, 0, sizeof(fresh));
	fresh.packets = packets;
	fresh.bytes = bytes;
	fresh.first_seen_ns = now;
	fresh.last_seen_ns = now;
	fresh.tcp_flags = flags;
	fresh.syn = !!(flags & TW_TCP_SYN);
	fresh.fin = !!(flags & TW_TCP_FIN);
	fresh.rst = !!(flags & TW_TCP_RST);
	err = bpf_map_update_elem(flows, key, &fresh, BPF_NOEXIST);
	if (!err)
		return;
	if (err == -TW_EEXIST) {
		/* another CPU inserted it first */
		v = bpf_map_lookup_elem(flows, key);
		if (v) {
			tw_flow_add(v, packets, bytes, flags, now);
			return;
		}
	}
	tw_count_insert_error(err, TW_ERR_FLOW_TABLE_FULL, TW_ERR_FLOW_UPDATE);
}

static __always_inline void tw_flows_record(const struct tw_flow_key *key, __u64 packets,
					    __u64 bytes, __u8 flags)
{
	if (!tw_cfg(TW_CFG_FLOWS_ENABLED))
		return;
	if (tw_cfg(TW_CFG_ACTIVE_FLOWS))
		tw_flow_update(&tw_flows_b, key, packets, bytes, flags);
	else
		tw_flow_update(&tw_flows_a, key, packets, bytes, flags);
}

#endif /* TW_TC_FLOWS_H */

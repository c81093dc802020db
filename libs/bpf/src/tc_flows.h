/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-flow records in tw_flows_a / tw_flows_b, whichever the table bit of
 * tw_config[TW_CFG_FLOWS] names. A full table is counted, never silent.
 *
 * In front of each table, per CPU, TW_FLOW_PEND_SLOTS write-combining slots
 * (tw_flow_pend). A packet whose flow holds its slot is added there with
 * plain per-CPU adds: no hash lookup, no atomics, no clock read. Any other
 * packet -- another flow's, or one with SYN, FIN or RST -- first adds the
 * slot's counts to the slot's flow in the table, then is counted in the
 * table itself (inserting its flow) and takes the slot. A flow holds a slot
 * only while it has a table entry, so every packet is in a record or in
 * flow_table_full, as without the slots, and a record's first_seen_ns is its
 * first packet's. The drain adds an idle table's slots to that table's
 * records (drain_flows.cc). bench:bpf (README): the hash update and its clock
 * read were most of the TC programs' cost.
 */
#ifndef TW_TC_FLOWS_H
#define TW_TC_FLOWS_H

#include "common.h"
#include "parse.h"

#define TW_TCP_COUNTED (TW_TCP_SYN | TW_TCP_FIN | TW_TCP_RST)

static __always_inline void tw_count_errors(__u32 key, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&tw_errors, &key);

	if (v)
		*v += n;
}

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

/* Counts one packet in the table; 1 when its flow has an entry there now. */
static __always_inline int tw_flow_update(void *flows, const struct tw_flow_key *key, __u64 packets,
					  __u64 bytes, __u8 flags, __u64 now)
{
	struct tw_flow_value *v = bpf_map_lookup_elem(flows, key);
	struct tw_flow_value fresh;
	long err;

	if (v) {
		tw_flow_add(v, packets, bytes, flags, now);
		return 1;
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
		return 1;
	if (tw_err_is(err, TW_EEXIST)) {
		/* another CPU inserted it first */
		v = bpf_map_lookup_elem(flows, key);
		if (v) {
			tw_flow_add(v, packets, bytes, flags, now);
			return 1;
		}
	}
	tw_count_insert_error(err, TW_ERR_FLOW_TABLE_FULL, TW_ERR_FLOW_UPDATE);
	return 0;
}

/* Adds a held slot's counts to its flow's entry, which holding it guarantees. */
static __always_inline void tw_flow_flush(void *flows, struct tw_flow_pend *pend, __u64 now)
{
	struct tw_flow_value *v;

	if (!pend->key.ifindex || !pend->packets)
		return;
	v = bpf_map_lookup_elem(flows, &pend->key);
	if (v)
		tw_flow_add(v, pend->packets, pend->bytes, pend->tcp_flags, now);
	else
		tw_count_errors(TW_ERR_FLOW_UPDATE, pend->packets);
}

/*
 * The key in words: five 64-bit ones (ifindex and kind, saddr, daddr) and
 * the ports. Each matches one store of the parse and tw_tc, so its load is
 * forwarded from that store.
 */
static __always_inline __u64 tw_key_word(const struct tw_flow_key *key, int i)
{
	return ((const tw_word64 *)key)[i];
}

static __always_inline __u32 tw_key_ports(const struct tw_flow_key *key)
{
	__u32 w;

	__builtin_memcpy(&w, &key->sport, sizeof(w));
	return w;
}

/* A flow's slot: key words folded, so one CPU's concurrent flows spread. */
static __always_inline __u32 tw_pend_slot(const struct tw_flow_key *key)
{
	__u64 q = tw_key_word(key, 0) ^ tw_key_word(key, 1) ^ tw_key_word(key, 2) ^
		  tw_key_word(key, 3) ^ tw_key_word(key, 4);
	__u32 h = (__u32)q ^ (__u32)(q >> 32) ^ (tw_key_ports(key) * 0x9e3779b1);

	h ^= h >> 16;
	h ^= h >> 8;
	return h & (TW_FLOW_PEND_SLOTS - 1);
}

/* Equal flow keys: six words folded into one test, not a branch per word. */
static __always_inline int tw_key_eq(const struct tw_flow_key *a, const struct tw_flow_key *b)
{
	return ((tw_key_word(a, 0) ^ tw_key_word(b, 0)) | (tw_key_word(a, 1) ^ tw_key_word(b, 1)) |
		(tw_key_word(a, 2) ^ tw_key_word(b, 2)) | (tw_key_word(a, 3) ^ tw_key_word(b, 3)) |
		(tw_key_word(a, 4) ^ tw_key_word(b, 4)) |
		(__u64)(tw_key_ports(a) ^ tw_key_ports(b))) == 0;
}

static __always_inline void tw_flow_record(void *flows, __u32 table, const struct tw_flow_key *key,
					   __u64 packets, __u64 bytes, __u8 flags)
{
	__u32 idx = table * TW_FLOW_PEND_SLOTS + tw_pend_slot(key);
	struct tw_flow_pend *pend = bpf_map_lookup_elem(&tw_flow_pend, &idx);
	__u64 now;

	if (!pend) {
		tw_flow_update(flows, key, packets, bytes, flags, bpf_ktime_get_ns());
		return;
	}
	if (!(flags & TW_TCP_COUNTED) && tw_key_eq(&pend->key, key)) {
		pend->packets += packets;
		pend->bytes += bytes;
		pend->tcp_flags |= flags;
		return;
	}
	now = bpf_ktime_get_ns();
	tw_flow_flush(flows, pend, now);
	pend->packets = 0;
	pend->bytes = 0;
	pend->tcp_flags = 0;
	if (!tw_flow_update(flows, key, packets, bytes, flags, now)) {
		pend->key.ifindex = 0; /* released: its flow has no entry */
		return;
	}
	__builtin_memcpy(&pend->key, key, sizeof(*key));
}

static __always_inline void tw_flows_record(const struct tw_flow_key *key, __u64 packets,
					    __u64 bytes, __u8 flags)
{
	/* one word read once: on bit and table; a table and its slots go together */
	__u64 flows = tw_cfg(TW_CFG_FLOWS);

	if (!(flows & TW_FLOWS_ON))
		return;
	if (flows & TW_FLOWS_TABLE_B)
		tw_flow_record(&tw_flows_b, 1, key, packets, bytes, flags);
	else
		tw_flow_record(&tw_flows_a, 0, key, packets, bytes, flags);
}

#endif /* TW_TC_FLOWS_H */

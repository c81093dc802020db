/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Exact per interface x direction x family x protocol counters (tw_traffic).
 * Packets are wire packets: gso_segs where __sk_buff has it (5.1+, the modern
 * object), else 1 per skb. Bytes are skb->len; for a GSO skb the modern object
 * adds the headers every further segment carries on the wire, so both match
 * the interface counters (TCP builds GSO skbs even with offloads off, 4.17+).
 */
#ifndef TW_TC_COUNTERS_H
#define TW_TC_COUNTERS_H

#include "common.h"
#include "parse.h"

static __always_inline __u32 tw_iface_slot(__u32 ifindex)
{
	__u32 *slot;

	if (ifindex < TW_IFSLOT_DIRECT) {
		slot = bpf_map_lookup_elem(&tw_ifslot_direct, &ifindex);
		/*
		 * Keeps clang from merging the two lookups into one call on a map
		 * chosen at run time: the verifier inlines only a lookup in one
		 * known map, and the indirect call cost ~50 ns per packet.
		 */
		barrier();
	} else {
		slot = bpf_map_lookup_elem(&tw_ifslots, &ifindex);
	}
	if (!slot || *slot >= TW_MAX_IFACES)
		return 0;
	return *slot;
}

static __always_inline __u64 tw_wire_packets(struct __sk_buff *skb)
{
#ifdef TW_MODERN
	__u32 segs = skb->gso_segs;

	return segs ? segs : 1;
#else
	return 1;
#endif
}

/* hdr_len: struct tw_parsed's */
static __always_inline __u64 tw_wire_bytes(struct __sk_buff *skb, __u64 packets, __u32 hdr_len)
{
	__u64 bytes = skb->len;

	if (packets > 1 && hdr_len)
		bytes += (packets - 1) * hdr_len;
	return bytes;
}

/* family, proto: struct tw_parsed's */
static __always_inline void tw_count_traffic(__u32 slot, __u32 dir, __u32 family, __u32 proto,
					     __u64 packets, __u64 bytes)
{
	__u32 idx = ((slot * TW_DIR_MAX + dir) * TW_FAM_MAX + family) * TW_PROTO_MAX + proto;
	struct tw_traffic_value *v = bpf_map_lookup_elem(&tw_traffic, &idx);

	if (!v)
		return;
	v->packets += packets;
	v->bytes += bytes;
}

#endif /* TW_TC_COUNTERS_H */

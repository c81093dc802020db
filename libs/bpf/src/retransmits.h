/* SPDX-License-Identifier: GPL-2.0 */
/* TCP retransmits from tcp/tcp_retransmit_skb, in total and per 4-tuple. */
#ifndef TW_RETRANSMITS_H
#define TW_RETRANSMITS_H

#include "common.h"

/*
 * The record moved: 4.15-4.19 have sport at 24 and saddr_v6 at 36; 5.0 added
 * "state" (sport 28, saddr_v6 40); 5.13 added "family" (saddr_v6 42, as on
 * 6.18). User space writes the parsed offsets into tw_config. The family is
 * not read: IPv4 addresses are stored v4-mapped in saddr_v6 on every version.
 */
#define TW_RETRANS_SPORT_OFF_4_15 24
#define TW_RETRANS_SPORT_OFF_5_0 28
#define TW_RETRANS_SADDR6_OFF_4_15 36
#define TW_RETRANS_SADDR6_OFF_5_0 40
#define TW_RETRANS_SADDR6_OFF_5_13 42

struct tw_retrans_addrs {
	__u8 v6[32]; /* saddr_v6, daddr_v6 */
};

static __always_inline int tw_retrans_read_addrs(void *ctx, __u64 off, struct tw_retrans_addrs *a)
{
	if (off == TW_RETRANS_SADDR6_OFF_5_13)
		return bpf_probe_read(a, sizeof(*a), TW_CTX_AT(ctx, TW_RETRANS_SADDR6_OFF_5_13));
	return TW_TP_READ(a, ctx, off, TW_RETRANS_SADDR6_OFF_4_15, TW_RETRANS_SADDR6_OFF_5_0);
}

static __always_inline int tw_retransmit(void *ctx)
{
	__u64 sport_off = tw_cfg(TW_CFG_RETRANS_SPORT_OFF);
	__u64 saddr6_off = tw_cfg(TW_CFG_RETRANS_SADDR6_OFF);
	struct tw_tuple_key key;
	struct {
		__u16 sport, dport;
	} ports;
	struct tw_retrans_addrs a;
	const __u8 *addrs = a.v6;
	__u64 one = 1, *v;
	long err;
	int v4;

	/* zeroed: 4.19/5.10 refuse reads of stack bytes no path wrote */
	__builtin_memset(&ports, 0, sizeof(ports));
	__builtin_memset(&a, 0, sizeof(a));
	tw_count_tcp(TW_TCP_RETRANSMITS);
	if (!sport_off)
		sport_off = TW_RETRANS_SPORT_OFF_5_0;
	if (!saddr6_off)
		saddr6_off = TW_RETRANS_SADDR6_OFF_5_13;
	if (TW_TP_READ(&ports, ctx, sport_off, TW_RETRANS_SPORT_OFF_4_15,
		       TW_RETRANS_SPORT_OFF_5_0) ||
	    tw_retrans_read_addrs(ctx, saddr6_off, &a)) {
		tw_count_error(TW_ERR_TP_LAYOUT);
		return 0;
	}

	__builtin_memset(&key, 0, sizeof(key));
	v4 = tw_is_v4mapped(addrs + 16);
	key.family = v4 ? TW_FAM_IPV4 : TW_FAM_IPV6;
	tw_copy_addr(key.saddr, addrs, v4);
	tw_copy_addr(key.daddr, addrs + 16, v4);
	key.sport = ports.sport;
	key.dport = ports.dport;

	v = bpf_map_lookup_elem(&tw_retrans, &key);
	if (v) {
		__sync_fetch_and_add(v, 1);
		return 0;
	}
	err = bpf_map_update_elem(&tw_retrans, &key, &one, BPF_NOEXIST);
	if (tw_err_is(err, TW_EEXIST)) {
		v = bpf_map_lookup_elem(&tw_retrans, &key);
		if (v) {
			__sync_fetch_and_add(v, 1);
			return 0;
		}
	}
	if (err)
		tw_count_error(TW_ERR_RETRANS_TABLE_FULL);
	return 0;
}

#endif /* TW_RETRANSMITS_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Dropped skbs from skb/kfree_skb, in total and per drop reason. The reason
 * field exists from 5.17 (offset 28) and moved to 36 when rx_sk came (6.18
 * has 36), so user space writes the offset it parsed to tw_config; 0 means
 * "no reason field": key 0.
 */
#define TW_KFREE_REASON_OFF_5_17 28
#define TW_KFREE_REASON_OFF_RX_SK 36
#ifndef TW_DROPS_H
#define TW_DROPS_H

#include "common.h"

static __always_inline int tw_kfree_skb(void *ctx)
{
	__u64 off = tw_cfg(TW_CFG_KFREE_REASON_OFF);
	__u32 reason = 0;
	__u64 one = 1, *v;
	long err;

	tw_count_tcp(TW_TCP_DROPS);
	if (off &&
	    TW_TP_READ(&reason, ctx, off, TW_KFREE_REASON_OFF_5_17, TW_KFREE_REASON_OFF_RX_SK)) {
		tw_count_error(TW_ERR_TP_LAYOUT);
		reason = 0;
	}
	v = bpf_map_lookup_elem(&tw_drops, &reason);
	if (v) {
		*v += 1; /* per-CPU value */
		return 0;
	}
	err = bpf_map_update_elem(&tw_drops, &reason, &one, BPF_NOEXIST);
	if (tw_err_is(err, TW_EEXIST)) {
		v = bpf_map_lookup_elem(&tw_drops, &reason);
		if (v) {
			*v += 1;
			return 0;
		}
	}
	if (err)
		tw_count_error(TW_ERR_DROP_TABLE_FULL);
	return 0;
}

#endif /* TW_DROPS_H */

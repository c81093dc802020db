/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Includes and small helpers shared by every feature header. Kept to what
 * kernel 4.19 offers: no global variables, no bounded loops, helpers <= 84.
 */
#ifndef TW_COMMON_H
#define TW_COMMON_H

#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "tidewatch.h"
#include "maps.h"

/* errno values the map helpers return (negated); asm/errno.h needs the arch */
#define TW_E2BIG 7
#define TW_EEXIST 17

/*
 * ctx + a constant offset, hidden from the optimizer: for "off == 36 ?
 * ctx + 36 : ctx + 28" clang would otherwise emit ctx + off, and a variable
 * offset on ctx is something only newer verifiers are known to accept.
 */
#define TW_CTX_AT(ctx, off)                        \
	({                                         \
		void *__p = (void *)(ctx) + (off); \
		barrier_var(__p);                  \
		__p;                               \
	})

/*
 * Reads *dst from a tracepoint record at off, which must be one of the two
 * offsets this field has had (a or b). Non-zero for any other offset.
 */
#define TW_TP_READ(dst, ctx, off, a, b)                                          \
	((off) == (a) ? bpf_probe_read(dst, sizeof(*(dst)), TW_CTX_AT(ctx, a)) : \
	 (off) == (b) ? bpf_probe_read(dst, sizeof(*(dst)), TW_CTX_AT(ctx, b)) : \
			-1)

/*
 * A 64-bit word that may alias anything: flow keys are written and compared
 * in whole words (tw_key_word, tc_flows.h), on 8-aligned keys (the stack key
 * is declared so; a map value's key is at offset 0 of an 8-aligned value).
 */
typedef __u64 __attribute__((may_alias)) tw_word64;

/* The 8 bytes of two 32-bit words in memory order, lo first. */
static __always_inline __u64 tw_pack2(__u32 lo, __u32 hi)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (__u64)hi << 32 | lo;
#else
	return (__u64)lo << 32 | hi;
#endif
}

static __always_inline __u64 tw_cfg(__u32 key)
{
	__u64 *v = bpf_map_lookup_elem(&tw_config, &key);

	return v ? *v : 0;
}

/* Per-CPU counters: a plain add is exact, programs do not nest on one CPU. */
static __always_inline void tw_count_error(__u32 key)
{
	__u64 *v = bpf_map_lookup_elem(&tw_errors, &key);

	if (v)
		*v += 1;
}

static __always_inline void tw_count_tcp(__u32 key)
{
	__u64 *v = bpf_map_lookup_elem(&tw_tcp_stats, &key);

	if (v)
		*v += 1;
}

/*
 * err (a map helper's result) is -errno. Compared as an int: before 6.4 the
 * verifier turns map update/delete calls into direct calls of the map's
 * int-returning op (4.18+), so the result arrives zero-extended (-E2BIG as
 * 0xfffffff9). A 64-bit compare with -7 never matched on 4.19 or 5.10: a
 * full flow table was counted as another failure (seen in the 4.19 guest).
 */
static __always_inline int tw_err_is(long err, int errno_value)
{
	return (int)err == -errno_value;
}

/* Counts into the right error when a hash insert fails. */
static __always_inline void tw_count_insert_error(long err, __u32 full_key, __u32 other_key)
{
	tw_count_error(tw_err_is(err, TW_E2BIG) ? full_key : other_key);
}

/* ::ffff:a.b.c.d, the form tracepoints store IPv4 addresses in */
static __always_inline int tw_is_v4mapped(const __u8 *a)
{
	return *(const __u32 *)a == 0 && *(const __u32 *)(a + 4) == 0 &&
	       *(const __u32 *)(a + 8) == bpf_htonl(0x0000ffff);
}

/*
 * Copies one address from the tracepoint's 16-byte form into a key or event:
 * IPv4 goes to the first 4 bytes (tidewatch.h), the rest stays zero.
 */
static __always_inline void tw_copy_addr(__u8 *dst, const __u8 *src16, int v4)
{
	if (v4) {
		*(__u32 *)dst = *(const __u32 *)(src16 + 12);
		return;
	}
	__builtin_memcpy(dst, src16, 16);
}

#endif /* TW_COMMON_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TCP connections from sock/inet_sock_set_state: opened as client or server,
 * failed connects, closes with duration, events to user space.
 */
#ifndef TW_TCP_LIFECYCLE_H
#define TW_TCP_LIFECYCLE_H

#include "common.h"

/* include/net/tcp_states.h */
enum {
	TW_TCP_ESTABLISHED = 1,
	TW_TCP_SYN_SENT = 2,
	TW_TCP_SYN_RECV = 3,
	TW_TCP_FIN_WAIT1 = 4,
	TW_TCP_FIN_WAIT2 = 5,
	TW_TCP_TIME_WAIT = 6,
	TW_TCP_CLOSE = 7,
	TW_TCP_CLOSE_WAIT = 8,
	TW_TCP_LAST_ACK = 9,
	TW_TCP_LISTEN = 10,
	TW_TCP_CLOSING = 11,
};

#define TW_ROLE_CLIENT 0
#define TW_ROLE_SERVER 1
#define TW_ROLE_UNKNOWN 2

#define TW_AF_INET6 10

/*
 * The record of sock/inet_sock_set_state, by hand (no BTF on 4.19). Same
 * offsets from 4.16 to 6.18 up to family; protocol was a __u8 until 5.5
 * (its low byte is at 30 either way, little endian) and everything after it
 * then sits one byte earlier, so the addresses are read at
 * tw_config[TW_CFG_SOCK_SADDR6_OFF] (40 here, 39 on 4.19).
 */
struct tw_sock_state_ctx {
	__u64 common; /* common_type, common_flags, common_preempt_count, common_pid */
	__u64 skaddr; /* offset 8: const void * */
	__s32 oldstate; /* offset 16 */
	__s32 newstate; /* offset 20 */
	__u16 sport; /* offset 24, host byte order */
	__u16 dport; /* offset 26, host byte order */
	__u16 family; /* offset 28 */
	__u8 protocol; /* offset 30: __u16 since 5.6, __u8 before */
	__u8 protocol_hi; /* offset 31: 5.6+ high byte of protocol, earlier saddr[0] */
};

#define TW_SOCK_SADDR6_OFF_DEFAULT 40
#define TW_SOCK_SADDR6_OFF_U8_PROTO 39

static __always_inline void tw_conn_event(void *ctx, __u32 kind, __u8 role, __u64 now,
					  __u64 duration, const struct tw_sock_state_ctx *tp,
					  const __u8 *addrs32, int addrs_ok)
{
	struct tw_conn_event ev;
	int v4;
	long err;

	if (!tw_cfg(TW_CFG_EVENTS_ENABLED))
		return;
	__builtin_memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.role = role;
	ev.timestamp_ns = now;
	ev.duration_ns = duration;
	ev.sport = tp->sport;
	ev.dport = tp->dport;
	ev.family = tp->family == TW_AF_INET6 ? TW_FAM_IPV6 : TW_FAM_IPV4;
	if (addrs_ok) {
		/* a v6 socket talking to a v4-mapped peer is IPv4 on the wire */
		v4 = tw_is_v4mapped(addrs32 + 16);
		ev.family = v4 ? TW_FAM_IPV4 : TW_FAM_IPV6;
		tw_copy_addr(ev.saddr, addrs32, v4);
		tw_copy_addr(ev.daddr, addrs32 + 16, v4);
	}
#ifdef TW_MODERN
	err = bpf_ringbuf_output(&tw_events, &ev, sizeof(ev), 0);
#else
	err = bpf_perf_event_output(ctx, &tw_events, BPF_F_CURRENT_CPU, &ev, sizeof(ev));
#endif
	if (err)
		tw_count_error(TW_ERR_EVENT_LOST);
}

/* States only an established connection passes through on its way to CLOSE. */
static __always_inline int tw_was_established(int state)
{
	return state == TW_TCP_ESTABLISHED || state == TW_TCP_FIN_WAIT1 ||
	       state == TW_TCP_FIN_WAIT2 || state == TW_TCP_CLOSE_WAIT ||
	       state == TW_TCP_LAST_ACK || state == TW_TCP_CLOSING || state == TW_TCP_TIME_WAIT;
}

static __always_inline void tw_conn_opened(__u64 sk, __u8 role, __u64 now)
{
	struct tw_conn_start_value start;
	long err;

	tw_count_tcp(role == TW_ROLE_SERVER ? TW_TCP_OPENED_SERVER : TW_TCP_OPENED_CLIENT);
	__builtin_memset(&start, 0, sizeof(start));
	start.start_ns = now;
	start.role = role;
	/* BPF_ANY: an entry left by a socket at the same address is stale */
	err = bpf_map_update_elem(&tw_conn_start, &sk, &start, BPF_ANY);
	if (err)
		tw_count_error(TW_ERR_CONN_TABLE_FULL);
}

static __always_inline int tw_sock_state(struct tw_sock_state_ctx *ctx)
{
	__u64 sk = ctx->skaddr;
	int oldstate = ctx->oldstate;
	int newstate = ctx->newstate;
	__u64 off = tw_cfg(TW_CFG_SOCK_SADDR6_OFF);
	__u16 protocol = ctx->protocol;
	struct tw_conn_start_value *start;
	struct {
		__u8 v6[32]; /* saddr_v6, daddr_v6 */
	} a;
	const __u8 *addrs = a.v6;
	int addrs_ok = 0;
	__u64 now, duration = 0;
	__u8 role = TW_ROLE_UNKNOWN;

	if (!off)
		off = TW_SOCK_SADDR6_OFF_DEFAULT;
	if (off != TW_SOCK_SADDR6_OFF_U8_PROTO)
		protocol |= (__u16)ctx->protocol_hi << 8;
	if (protocol != IPPROTO_TCP)
		return 0;

	/* zeroed: 4.19/5.10 refuse reads of stack bytes no path wrote */
	__builtin_memset(&a, 0, sizeof(a));
	now = bpf_ktime_get_ns();
	if (newstate == TW_TCP_ESTABLISHED) {
		if (oldstate == TW_TCP_SYN_SENT)
			tw_conn_opened(sk, TW_ROLE_CLIENT, now);
		else if (oldstate == TW_TCP_SYN_RECV)
			tw_conn_opened(sk, TW_ROLE_SERVER, now);
		return 0;
	}
	/*
	 * A fast-open child the application accepted and closed before the
	 * handshake finished skips ESTABLISHED; its close is counted below,
	 * so its open is counted here to keep opened - closed = active.
	 */
	if (newstate == TW_TCP_FIN_WAIT1 && oldstate == TW_TCP_SYN_RECV) {
		tw_conn_opened(sk, TW_ROLE_SERVER, now);
		return 0;
	}
	if (newstate != TW_TCP_CLOSE)
		return 0;
	if (oldstate != TW_TCP_SYN_SENT && !tw_was_established(oldstate))
		return 0;

	if (TW_TP_READ(&a, ctx, off, TW_SOCK_SADDR6_OFF_U8_PROTO, TW_SOCK_SADDR6_OFF_DEFAULT) == 0)
		addrs_ok = 1;
	else
		tw_count_error(TW_ERR_TP_LAYOUT);

	if (oldstate == TW_TCP_SYN_SENT) {
		tw_count_tcp(TW_TCP_FAILED);
		tw_conn_event(ctx, TW_EV_CONN_FAILED, TW_ROLE_CLIENT, now, 0, ctx, addrs, addrs_ok);
		return 0;
	}
	/* counted by the old state, so a full tw_conn_start never hides a close */
	tw_count_tcp(TW_TCP_CLOSED);
	start = bpf_map_lookup_elem(&tw_conn_start, &sk);
	if (start) {
		duration = now - start->start_ns;
		role = start->role;
		bpf_map_delete_elem(&tw_conn_start, &sk);
	} else {
		tw_count_tcp(TW_TCP_CLOSED_UNSEEN);
	}
	tw_conn_event(ctx, TW_EV_CONN_CLOSED, role, now, duration, ctx, addrs, addrs_ok);
	return 0;
}

#endif /* TW_TCP_LIFECYCLE_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Packet parser for the TC programs: Ethernet with up to two VLAN tags, IPv4
 * (options, fragments), IPv6 with a bounded extension-header walk, TCP, UDP,
 * ICMP, ICMPv6. A first pass reads the headers in place (direct packet
 * access, ~110 ns/packet cheaper than copying); when a header lies outside
 * the skb's linear area, a second pass copies each one with
 * bpf_skb_load_bytes. Two whole passes instead of a fallback per header keep
 * the verifier's path count additive, which the 4.19 verifier needs.
 */
#ifndef TW_PARSE_H
#define TW_PARSE_H

#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>

#include "common.h"

#define TW_MAX_VLAN_TAGS 2
#define TW_MAX_IPV6_EXT 6
/* headers further in are left to the copying pass (bounds offsets for the verifier) */
#define TW_MAX_DIRECT_OFF 1024

#define TW_TCP_FIN 0x01
#define TW_TCP_SYN 0x02
#define TW_TCP_RST 0x04

enum tw_parse_status {
	TW_PARSE_OK = 0,
	TW_PARSE_SHORT = 1, /* a header is not where it can be read this pass */
	TW_PARSE_BAD = 2, /* a header contradicts itself (IPv4 IHL < 5) */
};

/* What the counters need besides the flow key. */
struct tw_parsed {
	__u8 family; /* enum tw_family */
	__u8 proto; /* enum tw_proto_class */
	__u8 tcp_flags; /* TCP flags byte, 0 for anything else */
	__u8 pad;
	__u32 hdr_len; /* bytes up to the TCP/UDP payload, 0 when not parsed */
};

/*
 * len bytes of header at off. direct (a constant once inlined): a pointer
 * into the linear area, NULL when the bytes are not there; else a copy in buf,
 * NULL when the packet is shorter.
 */
static __always_inline const void *tw_hdr(struct __sk_buff *skb, __u32 off, __u32 len, void *buf,
					  int direct)
{
	__u8 *data, *data_end, *p;

	if (!direct)
		return bpf_skb_load_bytes(skb, off, buf, len) < 0 ? NULL : buf;
	data = (__u8 *)(long)skb->data;
	data_end = (__u8 *)(long)skb->data_end;
	if (off > TW_MAX_DIRECT_OFF)
		return NULL;
	p = data + off;
	if (p + len > data_end)
		return NULL;
	return p;
}

static __always_inline __u8 tw_proto_class(__u8 ip_proto)
{
	switch (ip_proto) {
	case IPPROTO_TCP:
		return TW_PROTO_TCP;
	case IPPROTO_UDP:
		return TW_PROTO_UDP;
	case IPPROTO_ICMP:
		return TW_PROTO_ICMP;
	case IPPROTO_ICMPV6:
		return TW_PROTO_ICMPV6;
	default:
		return TW_PROTO_OTHER;
	}
}

/*
 * sport and dport as one 32-bit store: the slot hash and compare right after
 * the parse load the key in whole words, and a word load from two narrower
 * stores cannot take the stored value from the CPU's store buffer (store
 * forwarding), it waits for both to reach the cache.
 */
static __always_inline void tw_set_ports(struct tw_flow_key *key, __u16 sport, __u16 dport)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	__u32 w = sport | (__u32)dport << 16;
#else
	__u32 w = (__u32)sport << 16 | dport;
#endif

	__builtin_memcpy(&key->sport, &w, sizeof(w));
}

/*
 * An ICMP port unreachable (ICMPv4 type 3 code 3, ICMPv6 type 1 code 4)
 * quoting a UDP datagram is recorded with sport = TW_ICMP(V6)_PORT_UNREACH
 * and dport = the quoted datagram's destination port: the port that was
 * refused, which user space matches to the UDP probe. Anything else quoted
 * (TCP, a later fragment, a quote cut short) stays an ordinary type/code
 * record. off: the ICMP header. Only the copying pass reads the quote (the
 * direct pass hands such packets to it): they are rare, and the 4.19 verifier
 * then walks this code once per family instead of twice.
 */
static __always_inline void tw_parse_port_unreach(struct __sk_buff *skb, __u32 off,
						  struct tw_flow_key *key, int v6)
{
	__u8 h[10];

	__builtin_memset(h, 0, sizeof(h));
	/* the quoted IP header follows the 8-byte ICMP header */
	off += 8;
	if (!v6) {
		if (bpf_skb_load_bytes(skb, off, h, 10) < 0)
			return;
		/* version 4, IHL >= 5, UDP, fragment offset 0 */
		if ((h[0] >> 4) != 4 || (h[0] & 0xf) < 5 || h[9] != IPPROTO_UDP || (h[6] & 0x1f) ||
		    h[7])
			return;
		off += (h[0] & 0xf) * 4;
	} else {
		if (bpf_skb_load_bytes(skb, off, h, 7) < 0)
			return;
		if ((h[0] >> 4) != 6 || h[6] != IPPROTO_UDP)
			return;
		off += 40;
	}
	if (bpf_skb_load_bytes(skb, off, h, 4) < 0)
		return;
	tw_set_ports(key, v6 ? TW_ICMPV6_PORT_UNREACH : TW_ICMP_PORT_UNREACH,
		     ((__u16)h[2] << 8) | h[3]);
}

/* Ports (or ICMP type/code) of the transport header at off, in host order. */
static __always_inline int tw_parse_l4(struct __sk_buff *skb, __u32 off, struct tw_flow_key *key,
				       struct tw_parsed *p, int direct, int v6)
{
	__u8 buf[14];
	const __u8 *hdr;

	switch (key->ip_proto) {
	case IPPROTO_TCP:
		hdr = tw_hdr(skb, off, 14, buf, direct);
		if (!hdr)
			return TW_PARSE_SHORT;
		p->tcp_flags = hdr[13];
		p->hdr_len = off + (hdr[12] >> 4) * 4;
		break;
	case IPPROTO_UDP:
		hdr = tw_hdr(skb, off, 4, buf, direct);
		if (!hdr)
			return TW_PARSE_SHORT;
		p->hdr_len = off + 8;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		hdr = tw_hdr(skb, off, 2, buf, direct);
		if (!hdr)
			return TW_PARSE_SHORT;
		tw_set_ports(key, hdr[0], hdr[1]); /* type, code */
		/* constants once inlined: ICMPv4 under IPv4, ICMPv6 under IPv6 */
		if (v6 ? key->ip_proto == IPPROTO_ICMPV6 && hdr[0] == 1 && hdr[1] == 4 :
			 key->ip_proto == IPPROTO_ICMP && hdr[0] == 3 && hdr[1] == 3) {
			if (direct)
				return TW_PARSE_SHORT;
			tw_parse_port_unreach(skb, off, key, v6);
		}
		return TW_PARSE_OK;
	default:
		return TW_PARSE_OK;
	}
	tw_set_ports(key, ((__u16)hdr[0] << 8) | hdr[1], ((__u16)hdr[2] << 8) | hdr[3]);
	return TW_PARSE_OK;
}

static __always_inline int tw_parse_ipv4(struct __sk_buff *skb, __u32 off, struct tw_flow_key *key,
					 struct tw_parsed *p, int direct)
{
	struct iphdr buf;
	const struct iphdr *iph = tw_hdr(skb, off, sizeof(buf), &buf, direct);
	__u32 ihl;

	if (!iph)
		return TW_PARSE_SHORT;
	p->family = TW_FAM_IPV4;
	p->proto = tw_proto_class(iph->protocol);
	key->family = TW_FAM_IPV4;
	key->ip_proto = iph->protocol;
	/*
	 * Each address and the zero after it as one 64-bit store: the slot's
	 * compare loads the key in 64-bit words (tw_set_ports says why).
	 */
	*(tw_word64 *)key->saddr = tw_pack2(iph->saddr, 0);
	*(tw_word64 *)key->daddr = tw_pack2(iph->daddr, 0);
	ihl = iph->ihl;
	if (ihl < 5)
		return TW_PARSE_BAD;
	/* a later fragment carries no transport header */
	if (iph->frag_off & bpf_htons(0x1fff))
		return TW_PARSE_OK;
	return tw_parse_l4(skb, off + ihl * 4, key, p, direct, 0);
}

static __always_inline int tw_parse_ipv6(struct __sk_buff *skb, __u32 off, struct tw_flow_key *key,
					 struct tw_parsed *p, int direct)
{
	struct ipv6hdr buf;
	const struct ipv6hdr *ip6 = tw_hdr(skb, off, sizeof(buf), &buf, direct);
	__u8 ext_buf[4];
	const __u8 *ext;
	__u8 nexthdr;
	int later_fragment = 0;

	if (!ip6)
		return TW_PARSE_SHORT;
	p->family = TW_FAM_IPV6;
	key->family = TW_FAM_IPV6;
	__builtin_memcpy(key->saddr, &ip6->saddr, 16);
	__builtin_memcpy(key->daddr, &ip6->daddr, 16);
	nexthdr = ip6->nexthdr;
	off += sizeof(buf);

#pragma unroll
	for (int i = 0; i < TW_MAX_IPV6_EXT; i++) {
		if (nexthdr != IPPROTO_HOPOPTS && nexthdr != IPPROTO_ROUTING &&
		    nexthdr != IPPROTO_DSTOPTS && nexthdr != IPPROTO_FRAGMENT &&
		    nexthdr != IPPROTO_AH)
			break;
		ext = tw_hdr(skb, off, sizeof(ext_buf), ext_buf, direct);
		if (!ext) {
			key->ip_proto = nexthdr;
			return TW_PARSE_SHORT;
		}
		if (nexthdr == IPPROTO_FRAGMENT) {
			/* offset field (13 bits, in 8-byte units) in bytes 2-3 */
			if ((ext[2] << 8 | ext[3]) & 0xfff8)
				later_fragment = 1;
			off += 8;
		} else if (nexthdr == IPPROTO_AH) {
			off += (ext[1] + 2) * 4;
		} else {
			off += (ext[1] + 1) * 8;
		}
		nexthdr = ext[0];
	}
	key->ip_proto = nexthdr;
	p->proto = tw_proto_class(nexthdr);
	if (later_fragment)
		return TW_PARSE_OK;
	return tw_parse_l4(skb, off, key, p, direct, 1);
}

/*
 * The EtherType is read from the packet: a tag the kernel already moved into
 * skb->vlan_tci is gone from the data too, so the packet's own EtherType is
 * then the inner one (it equals skb->protocol); tags still in the data (a
 * second tag, or egress without VLAN offload) are walked here.
 */
static __always_inline int tw_parse_headers(struct __sk_buff *skb, struct tw_flow_key *key,
					    struct tw_parsed *p, int direct)
{
	__u32 off = ETH_HLEN;
	__u16 buf;
	const __u16 *type;
	__u16 eth_proto;

	p->family = TW_FAM_OTHER;
	p->proto = TW_PROTO_OTHER;
	p->tcp_flags = 0;
	p->hdr_len = 0;
	key->family = TW_FAM_OTHER;
	type = tw_hdr(skb, 12, sizeof(buf), &buf, direct);
	if (!type)
		return TW_PARSE_SHORT;
	eth_proto = *type;
#pragma unroll
	for (int i = 0; i < TW_MAX_VLAN_TAGS; i++) {
		if (eth_proto != bpf_htons(ETH_P_8021Q) && eth_proto != bpf_htons(ETH_P_8021AD))
			break;
		/* TCI (2 bytes), then the encapsulated EtherType */
		type = tw_hdr(skb, off + 2, sizeof(buf), &buf, direct);
		if (!type)
			return TW_PARSE_SHORT;
		eth_proto = *type;
		off += 4;
	}
	if (eth_proto == bpf_htons(ETH_P_IP))
		return tw_parse_ipv4(skb, off, key, p, direct);
	if (eth_proto == bpf_htons(ETH_P_IPV6))
		return tw_parse_ipv6(skb, off, key, p, direct);
	return TW_PARSE_OK;
}

/* Fills key (zeroed by the caller) and p; counts a packet whose headers are cut short. */
static __always_inline void tw_parse(struct __sk_buff *skb, struct tw_flow_key *key,
				     struct tw_parsed *p)
{
	int status = tw_parse_headers(skb, key, p, 1);

	if (status == TW_PARSE_SHORT) {
		__builtin_memset(key, 0, sizeof(*key));
		status = tw_parse_headers(skb, key, p, 0);
	}
	if (status != TW_PARSE_OK)
		tw_count_error(TW_ERR_PARSE_TRUNCATED);
}

#endif /* TW_PARSE_H */

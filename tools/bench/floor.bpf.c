// SPDX-License-Identifier: GPL-2.0
/*
 * The floor of bench:bpf: the least a TC program can do to count traffic
 * exactly -- one per-CPU array slot, packets and skb->len bytes, no
 * parsing -- attached at ingress and egress where Tidewatch's two go, alone
 * and beside them (before and after their filter). Tidewatch's TC programs
 * are reported as a multiple of this program's ns per packet on the same
 * packets. Built by the benchmark with the legacy
 * object's flags (-mcpu=v2), so it loads wherever that object does.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct floor_value {
	__u64 packets;
	__u64 bytes;
};

/* key: 0; value: struct floor_value per CPU. tc loads the object once per hook: one map each. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct floor_value);
} floor_counts SEC(".maps");

SEC("tc")
int floor_count(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct floor_value *v = bpf_map_lookup_elem(&floor_counts, &key);

	if (v) {
		v->packets += 1;
		v->bytes += skb->len;
	}
	/* UNSPEC, as Tidewatch's programs: the filters after it still run. */
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";

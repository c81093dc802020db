#include "drain_flows.h"

#include <bpf/bpf.h>

#include <time.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "collector.h"
#include "errors.h"
#include "hash_read.h"
#include "tidewatch.h"

namespace tidewatch {

namespace {

// TC programs run to completion with preemption off and take microseconds;
// after this pause none still holds a pointer into the map we are draining.
constexpr auto kSwapGrace = std::chrono::milliseconds(5);

struct Flow {
	tw_flow_key key;
	tw_flow_value value;
};

class DrainWorker : public PromiseWorker {
public:
	DrainWorker(Napi::Env env, CollectorPtr c) : PromiseWorker(env), c_(std::move(c)) {}

protected:
	OpError Run() override
	{
		std::lock_guard<std::mutex> lock(c_->mu);
		if (c_->closed)
			return ClosedError();
		if (c_->flows_fd[0] < 0 || c_->flows_fd[1] < 0)
			return OpError{ENOENT,
				       "cannot drain flows: the BPF object has no flow maps"};
		// One word: the table bit flips here, the on bit (setFlowsEnabled,
		// under this lock too) stays as it is.
		uint32_t key = TW_CFG_FLOWS;
		uint64_t word = 0;
		if (bpf_map_lookup_elem(c_->config_fd, &key, &word))
			return MakeOpError(errno, "cannot read the active flow map");
		const uint64_t active = word & TW_FLOWS_TABLE_B ? 1 : 0;
		uint64_t next = word ^ TW_FLOWS_TABLE_B;
		if (bpf_map_update_elem(c_->config_fd, &key, &next, BPF_ANY))
			return MakeOpError(errno, "cannot swap the flow maps");
		std::this_thread::sleep_for(kSwapGrace);

		RawEntries raw;
		int err = ReadHash(c_->flows_fd[active], sizeof(tw_flow_key), sizeof(tw_flow_value),
				   c_->flows_percpu, c_->ncpus, true, c_->batch_ops, &raw);
		if (err)
			return MakeOpError(err, "cannot drain the flow map");
		flows_.reserve(raw.count());
		for (size_t i = 0; i < raw.count(); i++) {
			Flow f;
			memcpy(&f.key, raw.key(i), sizeof(f.key));
			memset(&f.value, 0, sizeof(f.value));
			for (size_t cpu = 0; cpu < raw.copies; cpu++) {
				tw_flow_value v;
				memcpy(&v, raw.value(i, cpu), sizeof(v));
				if (!v.packets && !v.first_seen_ns)
					continue; // this CPU never saw the flow
				f.value.packets += v.packets;
				f.value.bytes += v.bytes;
				if (!f.value.first_seen_ns ||
				    (v.first_seen_ns && v.first_seen_ns < f.value.first_seen_ns))
					f.value.first_seen_ns = v.first_seen_ns;
				if (v.last_seen_ns > f.value.last_seen_ns)
					f.value.last_seen_ns = v.last_seen_ns;
				f.value.syn += v.syn;
				f.value.fin += v.fin;
				f.value.rst += v.rst;
				f.value.tcp_flags |= v.tcp_flags;
			}
			flows_.push_back(f);
		}
		if (c_->flow_pend_fd >= 0)
			return MergePending(static_cast<uint32_t>(active));
		return {};
	}

	Napi::Value Result(Napi::Env env) override
	{
		Napi::Array out = Napi::Array::New(env, flows_.size());
		for (size_t i = 0; i < flows_.size(); i++) {
			const Flow &f = flows_[i];
			Napi::Object o = Napi::Object::New(env);
			o.Set("ifindex", f.key.ifindex);
			o.Set("direction", f.key.direction);
			o.Set("family", f.key.family);
			o.Set("ipProto", f.key.ip_proto);
			o.Set("saddr",
			      Napi::Buffer<uint8_t>::Copy(env, f.key.saddr, sizeof(f.key.saddr)));
			o.Set("daddr",
			      Napi::Buffer<uint8_t>::Copy(env, f.key.daddr, sizeof(f.key.daddr)));
			o.Set("sport", f.key.sport);
			o.Set("dport", f.key.dport);
			o.Set("packets", Napi::BigInt::New(env, f.value.packets));
			o.Set("bytes", Napi::BigInt::New(env, f.value.bytes));
			o.Set("firstSeenNs", Napi::BigInt::New(env, f.value.first_seen_ns));
			o.Set("lastSeenNs", Napi::BigInt::New(env, f.value.last_seen_ns));
			o.Set("syn", f.value.syn);
			o.Set("fin", f.value.fin);
			o.Set("rst", f.value.rst);
			o.Set("tcpFlags", f.value.tcp_flags);
			out.Set(i, o);
		}
		return out;
	}

private:
	// Adds the idle table's write-combining slots (tc_flows.h) to its drained
	// flows, then zeroes them for its next turn. Past the swap grace no
	// program touches them. Their packets' times are not kept: a record with
	// pending packets gets lastSeenNs = now, after its last packet.
	OpError MergePending(uint32_t table)
	{
		timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts); // bpf_ktime_get_ns()'s clock
		const uint64_t now = static_cast<uint64_t>(ts.tv_sec) * 1000000000ull +
				     static_cast<uint64_t>(ts.tv_nsec);
		const size_t stride = (sizeof(tw_flow_pend) + 7) & ~static_cast<size_t>(7);
		std::vector<uint8_t> buf(stride * c_->ncpus);
		const std::vector<uint8_t> zeros(stride * c_->ncpus, 0);
		std::unordered_map<std::string, size_t> index;
		auto bytes = [](const tw_flow_key &k) {
			return std::string(reinterpret_cast<const char *>(&k), sizeof(k));
		};
		for (size_t i = 0; i < flows_.size(); i++)
			index.emplace(bytes(flows_[i].key), i);
		for (uint32_t slot = 0; slot < TW_FLOW_PEND_SLOTS; slot++) {
			uint32_t key = table * TW_FLOW_PEND_SLOTS + slot;
			if (bpf_map_lookup_elem(c_->flow_pend_fd, &key, buf.data()))
				return MakeOpError(errno, "cannot read the pending flow counts");
			bool held = false;
			for (int cpu = 0; cpu < c_->ncpus; cpu++) {
				tw_flow_pend p;
				memcpy(&p, buf.data() + cpu * stride, sizeof(p));
				held = held || p.key.ifindex || p.packets;
				if (!p.packets)
					continue;
				auto it = index.find(bytes(p.key));
				if (it == index.end()) {
					// not expected: a slot is held only by a flow with an entry
					Flow f;
					memset(&f, 0, sizeof(f));
					f.key = p.key;
					f.value.first_seen_ns = now;
					flows_.push_back(f);
					it = index.emplace(bytes(p.key), flows_.size() - 1).first;
				}
				tw_flow_value &v = flows_[it->second].value;
				v.packets += p.packets;
				v.bytes += p.bytes;
				v.tcp_flags |= p.tcp_flags;
				if (v.last_seen_ns < now)
					v.last_seen_ns = now;
			}
			if (held &&
			    bpf_map_update_elem(c_->flow_pend_fd, &key, zeros.data(), BPF_ANY))
				return MakeOpError(errno, "cannot reset the pending flow counts");
		}
		return {};
	}

	CollectorPtr c_;
	std::vector<Flow> flows_;
};

} // namespace

Napi::Value DrainFlows(const Napi::CallbackInfo &info)
{
	return (new DrainWorker(info.Env(), UnwrapCollector(info[0])))->Queue();
}

} // namespace tidewatch

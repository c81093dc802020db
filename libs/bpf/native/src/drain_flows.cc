#include "drain_flows.h"

#include <bpf/bpf.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
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
		uint32_t key = TW_CFG_ACTIVE_FLOWS;
		uint64_t active = 0;
		if (bpf_map_lookup_elem(c_->config_fd, &key, &active))
			return MakeOpError(errno, "cannot read the active flow map");
		active = active ? 1 : 0;
		uint64_t next = active ^ 1;
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
	CollectorPtr c_;
	std::vector<Flow> flows_;
};

} // namespace

Napi::Value DrainFlows(const Napi::CallbackInfo &info)
{
	return (new DrainWorker(info.Env(), UnwrapCollector(info[0])))->Queue();
}

} // namespace tidewatch

#include "read_counters.h"

#include <bpf/bpf.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "collector.h"
#include "errors.h"
#include "tidewatch.h"

namespace tidewatch {

namespace {

constexpr uint32_t kPerSlot = TW_DIR_MAX * TW_FAM_MAX * TW_PROTO_MAX;

Napi::BigUint64Array ToBigArray(Napi::Env env, const std::vector<uint64_t> &values)
{
	Napi::BigUint64Array out = Napi::BigUint64Array::New(env, values.size());
	if (!values.empty())
		memcpy(out.Data(), values.data(), values.size() * sizeof(uint64_t));
	return out;
}

class TrafficWorker : public PromiseWorker {
public:
	TrafficWorker(Napi::Env env, CollectorPtr c, std::vector<uint32_t> slots)
		: PromiseWorker(env), c_(std::move(c)), slots_(std::move(slots))
	{
	}

protected:
	OpError Run() override
	{
		std::lock_guard<std::mutex> lock(c_->mu);
		if (c_->closed)
			return ClosedError();
		std::vector<tw_traffic_value> percpu(c_->ncpus);
		values_.assign(slots_.size() * kPerSlot * 2, 0);
		for (size_t s = 0; s < slots_.size(); s++) {
			for (uint32_t i = 0; i < kPerSlot; i++) {
				uint32_t key = slots_[s] * kPerSlot + i;
				if (bpf_map_lookup_elem(c_->traffic_fd, &key, percpu.data()))
					return MakeOpError(errno,
							   "cannot read the traffic counters");
				uint64_t packets = 0, bytes = 0;
				for (const tw_traffic_value &v : percpu) {
					packets += v.packets;
					bytes += v.bytes;
				}
				values_[(s * kPerSlot + i) * 2] = packets;
				values_[(s * kPerSlot + i) * 2 + 1] = bytes;
			}
		}
		return {};
	}

	Napi::Value Result(Napi::Env env) override { return ToBigArray(env, values_); }

private:
	CollectorPtr c_;
	std::vector<uint32_t> slots_;
	std::vector<uint64_t> values_;
};

} // namespace

Napi::Value ReadTraffic(const Napi::CallbackInfo &info)
{
	CollectorPtr c = UnwrapCollector(info[0]);
	Napi::Array arr = info[1].As<Napi::Array>();
	std::vector<uint32_t> slots;
	for (uint32_t i = 0; i < arr.Length(); i++)
		slots.push_back(arr.Get(i).As<Napi::Number>().Uint32Value());
	return (new TrafficWorker(info.Env(), c, std::move(slots)))->Queue();
}

Napi::Value ReadCounters(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	CollectorPtr c = UnwrapCollector(info[0]);
	std::string which = info[1].As<Napi::String>().Utf8Value();
	std::lock_guard<std::mutex> lock(c->mu);
	if (c->closed)
		throw ToJsError(env, ClosedError());
	int fd = which == "errors" ? c->errors_fd : c->tcp_stats_fd;
	uint32_t count = which == "errors" ? uint32_t(TW_ERR_MAX) : uint32_t(TW_TCP_STAT_MAX);
	std::vector<uint64_t> sums(count, 0);
	if (fd < 0)
		return ToBigArray(env, sums);
	std::vector<uint64_t> percpu(c->ncpus);
	for (uint32_t key = 0; key < count; key++) {
		if (bpf_map_lookup_elem(fd, &key, percpu.data()))
			throw ToJsError(env, MakeOpError(errno,
							 "cannot read the " + which + " counters"));
		for (uint64_t v : percpu)
			sums[key] += v;
	}
	return ToBigArray(env, sums);
}

} // namespace tidewatch

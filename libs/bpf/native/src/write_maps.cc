#include "write_maps.h"

#include <bpf/bpf.h>

#include <cerrno>
#include <string>
#include <vector>

#include "collector.h"
#include "errors.h"
#include "tidewatch.h"

namespace tidewatch {

namespace {

uint64_t BigArg(const Napi::Value &v)
{
	if (v.IsBigInt()) {
		bool lossless = true;
		return v.As<Napi::BigInt>().Uint64Value(&lossless);
	}
	return static_cast<uint64_t>(v.As<Napi::Number>().Int64Value());
}

void Check(Napi::Env env, int err, const std::string &what)
{
	if (err)
		throw ToJsError(env, MakeOpError(err, what));
}

} // namespace

Napi::Value WriteConfig(const Napi::CallbackInfo &info)
{
	CollectorPtr c = UnwrapCollector(info[0]);
	uint32_t key = info[1].As<Napi::Number>().Uint32Value();
	uint64_t value = BigArg(info[2]);
	std::lock_guard<std::mutex> lock(c->mu);
	if (c->closed)
		throw ToJsError(info.Env(), ClosedError());
	Check(info.Env(), bpf_map_update_elem(c->config_fd, &key, &value, BPF_ANY) ? -errno : 0,
	      "cannot write config key " + std::to_string(key));
	return info.Env().Undefined();
}

Napi::Value ReadConfig(const Napi::CallbackInfo &info)
{
	CollectorPtr c = UnwrapCollector(info[0]);
	uint32_t key = info[1].As<Napi::Number>().Uint32Value();
	uint64_t value = 0;
	std::lock_guard<std::mutex> lock(c->mu);
	if (c->closed)
		throw ToJsError(info.Env(), ClosedError());
	Check(info.Env(), bpf_map_lookup_elem(c->config_fd, &key, &value) ? -errno : 0,
	      "cannot read config key " + std::to_string(key));
	return Napi::BigInt::New(info.Env(), value);
}

Napi::Value SetFlowsEnabled(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	CollectorPtr c = UnwrapCollector(info[0]);
	bool on = info[1].As<Napi::Boolean>().Value();
	uint32_t key = TW_CFG_FLOWS;
	uint64_t value = 0;
	// Under the lock a drain holds while it flips the table bit of the same
	// word: read, change the on bit only, write.
	std::lock_guard<std::mutex> lock(c->mu);
	if (c->closed)
		throw ToJsError(env, ClosedError());
	Check(env, bpf_map_lookup_elem(c->config_fd, &key, &value) ? -errno : 0,
	      "cannot read the flow records' config word");
	value = on ? (value | TW_FLOWS_ON) : (value & ~static_cast<uint64_t>(TW_FLOWS_ON));
	Check(env, bpf_map_update_elem(c->config_fd, &key, &value, BPF_ANY) ? -errno : 0,
	      std::string("cannot turn flow records ") + (on ? "on" : "off"));
	return env.Undefined();
}

Napi::Value SetIfSlot(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	CollectorPtr c = UnwrapCollector(info[0]);
	uint32_t ifindex = info[1].As<Napi::Number>().Uint32Value();
	uint32_t slot = info[2].As<Napi::Number>().Uint32Value();
	std::lock_guard<std::mutex> lock(c->mu);
	if (c->closed)
		throw ToJsError(env, ClosedError());
	// A reused slot starts from zero: its counters belong to the new interface.
	std::vector<tw_traffic_value> zeros(c->ncpus);
	const uint32_t per_slot = TW_DIR_MAX * TW_FAM_MAX * TW_PROTO_MAX;
	for (uint32_t i = 0; i < per_slot; i++) {
		uint32_t key = slot * per_slot + i;
		Check(env,
		      bpf_map_update_elem(c->traffic_fd, &key, zeros.data(), BPF_ANY) ? -errno : 0,
		      "cannot reset the counters of slot " + std::to_string(slot));
	}
	Check(env, bpf_map_update_elem(c->ifslots_fd, &ifindex, &slot, BPF_ANY) ? -errno : 0,
	      "cannot register interface " + std::to_string(ifindex));
	// The programs read a small ifindex's slot from the array (tc_counters.h).
	if (c->ifslot_direct_fd >= 0 && ifindex < TW_IFSLOT_DIRECT)
		Check(env,
		      bpf_map_update_elem(c->ifslot_direct_fd, &ifindex, &slot, BPF_ANY) ? -errno :
											   0,
		      "cannot register interface " + std::to_string(ifindex));
	return env.Undefined();
}

Napi::Value DeleteIfSlot(const Napi::CallbackInfo &info)
{
	CollectorPtr c = UnwrapCollector(info[0]);
	uint32_t ifindex = info[1].As<Napi::Number>().Uint32Value();
	std::lock_guard<std::mutex> lock(c->mu);
	if (c->closed)
		throw ToJsError(info.Env(), ClosedError());
	if (c->ifslot_direct_fd >= 0 && ifindex < TW_IFSLOT_DIRECT) {
		uint32_t none = 0;
		if (bpf_map_update_elem(c->ifslot_direct_fd, &ifindex, &none, BPF_ANY))
			Check(info.Env(), -errno,
			      "cannot unregister interface " + std::to_string(ifindex));
	}
	if (bpf_map_delete_elem(c->ifslots_fd, &ifindex) && errno != ENOENT)
		Check(info.Env(), -errno, "cannot unregister interface " + std::to_string(ifindex));
	return info.Env().Undefined();
}

} // namespace tidewatch

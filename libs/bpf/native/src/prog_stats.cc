#include "prog_stats.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>

#include "collector.h"
#include "errors.h"

namespace tidewatch {

Napi::Value ProgramStats(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	CollectorPtr c = UnwrapCollector(info[0]);
	std::lock_guard<std::mutex> lock(c->mu);
	if (c->closed)
		throw ToJsError(env, ClosedError());
	Napi::Array out = Napi::Array::New(env);
	uint32_t i = 0;
	bpf_program *prog;
	bpf_object__for_each_program(prog, c->obj)
	{
		int fd = bpf_program__fd(prog);
		if (fd < 0)
			continue;
		bpf_prog_info pinfo;
		memset(&pinfo, 0, sizeof(pinfo));
		uint32_t len = sizeof(pinfo);
		if (bpf_obj_get_info_by_fd(fd, &pinfo, &len))
			throw ToJsError(env, MakeOpError(errno,
							 std::string("cannot read the stats of ") +
								 bpf_program__name(prog)));
		Napi::Object o = Napi::Object::New(env);
		o.Set("name", bpf_program__name(prog));
		o.Set("id", pinfo.id);
		o.Set("runCount", Napi::BigInt::New(env, static_cast<uint64_t>(pinfo.run_cnt)));
		o.Set("runTimeNs",
		      Napi::BigInt::New(env, static_cast<uint64_t>(pinfo.run_time_ns)));
		// Runs skipped because another BPF program was active on that CPU (5.12+).
		o.Set("recursionMisses",
		      Napi::BigInt::New(env, static_cast<uint64_t>(pinfo.recursion_misses)));
		out.Set(i++, o);
	}
	return out;
}

} // namespace tidewatch

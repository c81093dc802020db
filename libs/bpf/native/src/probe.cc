#include "probe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace tidewatch {

namespace {

// 0 when the bpf() syscall works for us, else the errno of a tiny map create.
int ProbeSyscall()
{
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, nullptr, 4, 8, 1, nullptr);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

// Batch map ops (5.6): an empty hash answers ENOENT, an older kernel EINVAL.
bool ProbeBatch()
{
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, nullptr, 4, 4, 4, nullptr);
	if (fd < 0)
		return false;
	uint32_t keys[4], values[4], out = 0, count = 4;
	int err = bpf_map_lookup_batch(fd, nullptr, &out, keys, values, &count, nullptr);
	bool ok = err == 0 || errno == ENOENT;
	close(fd);
	return ok;
}

// __sk_buff->gso_segs (5.1): the verifier refuses the load of an unknown field.
bool ProbeGsoSegs()
{
	const bpf_insn insns[] = {
		// r0 = *(u32 *)(r1 + offsetof(__sk_buff, gso_segs))
		{BPF_LDX | BPF_MEM | BPF_W, BPF_REG_0, BPF_REG_1,
		 static_cast<int16_t>(offsetof(__sk_buff, gso_segs)), 0},
		// r0 = 0
		{BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},
		{BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, nullptr, "GPL", insns,
			       sizeof(insns) / sizeof(insns[0]), nullptr);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

} // namespace

Napi::Value ProbeKernel(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	Napi::Object o = Napi::Object::New(env);
	int sys = ProbeSyscall();
	o.Set("bpfSyscall", sys);
	bool usable = sys == 0;
	o.Set("schedCls",
	      usable && libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SCHED_CLS, nullptr) == 1);
	o.Set("tracepoint",
	      usable && libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_TRACEPOINT, nullptr) == 1);
	o.Set("perfEventArray",
	      usable && libbpf_probe_bpf_map_type(BPF_MAP_TYPE_PERF_EVENT_ARRAY, nullptr) == 1);
	o.Set("ringbuf", usable && libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nullptr) == 1);
	o.Set("batchOps", usable && ProbeBatch());
	o.Set("gsoSegs", usable && ProbeGsoSegs());
	return o;
}

} // namespace tidewatch

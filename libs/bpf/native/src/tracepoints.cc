#include "tracepoints.h"

#include <bpf/libbpf.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "collector.h"
#include "errors.h"

namespace tidewatch {

namespace {

struct TracepointProgram {
	const char *program;
	const char *category;
	const char *name;
};

const TracepointProgram kTracepoints[] = {
	{"tw_tp_sock_state", "sock", "inet_sock_set_state"},
	{"tw_tp_retransmit", "tcp", "tcp_retransmit_skb"},
	{"tw_tp_kfree_skb", "skb", "kfree_skb"},
};

constexpr long kTracefsMagic = 0x74726163; // TRACEFS_MAGIC in linux/magic.h

const char *const kTracefsRoots[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};

// Why libbpf cannot find the tracepoints through tracefs; err 0 when it can.
// tracefs is root-only (0700) on current kernels, so "mounted but not
// readable" is what a non-root agent with capabilities meets: say that, not
// "not mounted".
OpError CheckTracefs()
{
	for (const char *root : kTracefsRoots) {
		if (access((std::string(root) + "/events").c_str(), R_OK | X_OK) == 0)
			return {};
	}
	for (const char *root : kTracefsRoots) {
		struct statfs st;
		if (statfs(root, &st) != 0 || st.f_type != kTracefsMagic)
			continue;
		std::string events = std::string(root) + "/events";
		int err = access(events.c_str(), R_OK | X_OK) == 0 ? EACCES : errno;
		std::string reason = strerror(err);
		if (!reason.empty())
			reason[0] = static_cast<char>(tolower(reason[0]));
		std::string why = reason + " (" + ErrnoName(err) + ") on " + events;
		return OpError{err,
			       std::string("cannot attach tracepoints: tracefs is mounted at ") +
				       root + " but not readable by this user: " + why +
				       " (run as root, or grant this user read access to the "
				       "events sock/inet_sock_set_state, tcp/tcp_retransmit_skb "
				       "and skb/kfree_skb)"};
	}
	return OpError{ENOENT, "cannot attach tracepoints: tracefs is not mounted "
			       "(mount -t tracefs tracefs /sys/kernel/tracing)"};
}

class AttachWorker : public PromiseWorker {
public:
	AttachWorker(Napi::Env env, CollectorPtr c) : PromiseWorker(env), c_(std::move(c)) {}

protected:
	OpError Run() override
	{
		std::lock_guard<std::mutex> lock(c_->mu);
		if (c_->closed)
			return ClosedError();
		if (!c_->tracepoints.empty())
			return OpError{EEXIST, "cannot attach tracepoints: already attached"};
		OpError tracefs = CheckTracefs();
		if (tracefs.failed())
			return tracefs;
		std::vector<bpf_link *> links;
		for (const TracepointProgram &tp : kTracepoints) {
			bpf_program *prog = bpf_object__find_program_by_name(c_->obj, tp.program);
			if (!prog)
				continue;
			bpf_link *link = bpf_program__attach_tracepoint(prog, tp.category, tp.name);
			int err = libbpf_get_error(link);
			if (err) {
				for (bpf_link *l : links)
					bpf_link__destroy(l);
				return MakeOpError(err, std::string("cannot attach tracepoint ") +
								tp.category + "/" + tp.name);
			}
			links.push_back(link);
			attached_.push_back(tp.program);
		}
		c_->tracepoints = links;
		return {};
	}

	Napi::Value Result(Napi::Env env) override
	{
		Napi::Array out = Napi::Array::New(env, attached_.size());
		for (size_t i = 0; i < attached_.size(); i++)
			out.Set(i, Napi::String::New(env, attached_[i]));
		return out;
	}

private:
	CollectorPtr c_;
	std::vector<std::string> attached_;
};

class DetachWorker : public PromiseWorker {
public:
	DetachWorker(Napi::Env env, CollectorPtr c) : PromiseWorker(env), c_(std::move(c)) {}

protected:
	OpError Run() override
	{
		std::lock_guard<std::mutex> lock(c_->mu);
		if (c_->closed)
			return ClosedError();
		for (bpf_link *l : c_->tracepoints)
			bpf_link__destroy(l);
		c_->tracepoints.clear();
		return {};
	}

private:
	CollectorPtr c_;
};

} // namespace

Napi::Value AttachTracepoints(const Napi::CallbackInfo &info)
{
	return (new AttachWorker(info.Env(), UnwrapCollector(info[0])))->Queue();
}

Napi::Value DetachTracepoints(const Napi::CallbackInfo &info)
{
	return (new DetachWorker(info.Env(), UnwrapCollector(info[0])))->Queue();
}

} // namespace tidewatch

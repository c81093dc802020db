#include "tc_attach.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_cls.h>
#include <net/if.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "errors.h"
#include "tc_filters.h"

namespace tidewatch {

namespace {

bpf_tc_hook MakeHook(int ifindex, bpf_tc_attach_point point)
{
	bpf_tc_hook hook;
	memset(&hook, 0, sizeof(hook));
	hook.sz = sizeof(hook);
	hook.ifindex = ifindex;
	hook.attach_point = point;
	return hook;
}

bpf_tc_opts MakeOpts(int prog_fd)
{
	bpf_tc_opts opts;
	memset(&opts, 0, sizeof(opts));
	opts.sz = sizeof(opts);
	opts.handle = kTcHandle;
	opts.priority = kTcPriority;
	opts.prog_fd = prog_fd;
	return opts;
}

// Program id and name of the filter at Tidewatch's handle/priority, if any.
bool QueryOwnSlot(int ifindex, bpf_tc_attach_point point, uint32_t *prog_id, std::string *name)
{
	bpf_tc_hook hook = MakeHook(ifindex, point);
	bpf_tc_opts opts = MakeOpts(0);
	if (bpf_tc_query(&hook, &opts))
		return false;
	*prog_id = opts.prog_id;
	name->clear();
	int fd = bpf_prog_get_fd_by_id(opts.prog_id);
	if (fd >= 0) {
		bpf_prog_info info;
		memset(&info, 0, sizeof(info));
		uint32_t len = sizeof(info);
		if (!bpf_obj_get_info_by_fd(fd, &info, &len))
			*name = info.name;
		close(fd);
	}
	return true;
}

int DetachPoint(int ifindex, bpf_tc_attach_point point)
{
	bpf_tc_hook hook = MakeHook(ifindex, point);
	bpf_tc_opts opts = MakeOpts(0);
	return bpf_tc_detach(&hook, &opts);
}

bool IsOwnProgram(const std::string &name)
{
	return name.rfind(kProgPrefix, 0) == 0;
}

int ProgFd(Collector &c, const char *name)
{
	bpf_program *prog = bpf_object__find_program_by_name(c.obj, name);
	return prog ? bpf_program__fd(prog) : -ENOENT;
}

class AttachWorker : public PromiseWorker {
public:
	AttachWorker(Napi::Env env, CollectorPtr c, std::string ifname)
		: PromiseWorker(env), c_(std::move(c)), ifname_(std::move(ifname))
	{
	}

protected:
	OpError Run() override
	{
		std::lock_guard<std::mutex> lock(c_->mu);
		if (c_->closed)
			return ClosedError();
		std::string what = "cannot attach to " + ifname_;
		int ifindex = if_nametoindex(ifname_.c_str());
		if (!ifindex)
			return MakeOpError(ENODEV, what);
		if (c_->tc.count(ifindex))
			return OpError{EEXIST, what + ": already attached by this collector"};
		int in_fd = ProgFd(*c_, "tw_tc_ingress");
		int eg_fd = ProgFd(*c_, "tw_tc_egress");
		if (in_fd < 0 || eg_fd < 0)
			return OpError{ENOENT,
				       what + ": the BPF object has no tw_tc_ingress/tw_tc_egress"};

		TcAttachment a;
		a.ifindex = ifindex;
		a.ifname = ifname_;
		bpf_tc_hook hook = MakeHook(ifindex, BPF_TC_INGRESS);
		int err = bpf_tc_hook_create(&hook);
		if (err && err != -EEXIST)
			return MakeOpError(err, what + " (creating the clsact qdisc)");
		a.created_qdisc = err == 0;

		// REPLACE: a filter of ours left by a crashed run is overwritten in place.
		bpf_tc_opts opts = MakeOpts(in_fd);
		opts.flags = BPF_TC_F_REPLACE;
		err = bpf_tc_attach(&hook, &opts);
		if (!err) {
			bpf_tc_hook eg = MakeHook(ifindex, BPF_TC_EGRESS);
			bpf_tc_opts eg_opts = MakeOpts(eg_fd);
			eg_opts.flags = BPF_TC_F_REPLACE;
			err = bpf_tc_attach(&eg, &eg_opts);
		}
		if (err) {
			DetachOwnFilters(a);
			return MakeOpError(err, what);
		}
		c_->tc[ifindex] = a;
		ifindex_ = ifindex;
		created_ = a.created_qdisc;
		return {};
	}

	Napi::Value Result(Napi::Env env) override
	{
		Napi::Object o = Napi::Object::New(env);
		o.Set("ifindex", Napi::Number::New(env, ifindex_));
		o.Set("createdQdisc", Napi::Boolean::New(env, created_));
		return o;
	}

private:
	CollectorPtr c_;
	std::string ifname_;
	int ifindex_ = 0;
	bool created_ = false;
};

class DetachWorker : public PromiseWorker {
public:
	DetachWorker(Napi::Env env, CollectorPtr c, std::string ifname)
		: PromiseWorker(env), c_(std::move(c)), ifname_(std::move(ifname))
	{
	}

protected:
	OpError Run() override
	{
		std::lock_guard<std::mutex> lock(c_->mu);
		if (c_->closed)
			return ClosedError();
		for (auto it = c_->tc.begin(); it != c_->tc.end(); ++it) {
			if (it->second.ifname == ifname_) {
				DetachOwnFilters(it->second);
				c_->tc.erase(it);
				return {};
			}
		}
		return OpError{ENOENT, "cannot detach from " + ifname_ + ": not attached"};
	}

private:
	CollectorPtr c_;
	std::string ifname_;
};

class CleanupWorker : public PromiseWorker {
public:
	CleanupWorker(Napi::Env env, std::string ifname)
		: PromiseWorker(env), ifname_(std::move(ifname))
	{
	}

protected:
	OpError Run() override
	{
		int ifindex = if_nametoindex(ifname_.c_str());
		if (!ifindex)
			return MakeOpError(ENODEV, "cannot clean up " + ifname_);
		for (bpf_tc_attach_point point : {BPF_TC_INGRESS, BPF_TC_EGRESS}) {
			uint32_t id = 0;
			std::string name;
			if (!QueryOwnSlot(ifindex, point, &id, &name) || !IsOwnProgram(name))
				continue;
			int err = DetachPoint(ifindex, point);
			if (err && err != -ENOENT)
				return MakeOpError(err,
						   "cannot remove a stale filter from " + ifname_);
			removed_++;
		}
		return {};
	}

	Napi::Value Result(Napi::Env env) override { return Napi::Number::New(env, removed_); }

private:
	std::string ifname_;
	int removed_ = 0;
};

} // namespace

void DetachOwnFilters(const TcAttachment &a)
{
	for (bpf_tc_attach_point point : {BPF_TC_INGRESS, BPF_TC_EGRESS}) {
		uint32_t id = 0;
		std::string name;
		// Only our own program at our handle/priority; anything else stays.
		if (QueryOwnSlot(a.ifindex, point, &id, &name) && IsOwnProgram(name))
			DetachPoint(a.ifindex, point);
	}
	if (!a.created_qdisc)
		return;
	if (CountTcFilters(a.ifindex, true) == 0 && CountTcFilters(a.ifindex, false) == 0) {
		bpf_tc_hook hook =
			MakeHook(a.ifindex, (bpf_tc_attach_point)(BPF_TC_INGRESS | BPF_TC_EGRESS));
		bpf_tc_hook_destroy(&hook);
	}
}

Napi::Value IfIndex(const Napi::CallbackInfo &info)
{
	std::string name = info[0].As<Napi::String>().Utf8Value();
	unsigned idx = if_nametoindex(name.c_str());
	if (!idx)
		throw ToJsError(info.Env(), MakeOpError(ENODEV, "cannot find " + name));
	return Napi::Number::New(info.Env(), idx);
}

Napi::Value AttachTc(const Napi::CallbackInfo &info)
{
	CollectorPtr c = UnwrapCollector(info[0]);
	auto *w = new AttachWorker(info.Env(), c, info[1].As<Napi::String>().Utf8Value());
	return w->Queue();
}

Napi::Value DetachTc(const Napi::CallbackInfo &info)
{
	CollectorPtr c = UnwrapCollector(info[0]);
	auto *w = new DetachWorker(info.Env(), c, info[1].As<Napi::String>().Utf8Value());
	return w->Queue();
}

Napi::Value CleanupStale(const Napi::CallbackInfo &info)
{
	auto *w = new CleanupWorker(info.Env(), info[0].As<Napi::String>().Utf8Value());
	return w->Queue();
}

} // namespace tidewatch

// The state behind one JS collector handle: the loaded object, its map and
// program fds, TC attachments and tracepoint links, and the event poller.
#ifndef TIDEWATCH_COLLECTOR_H
#define TIDEWATCH_COLLECTOR_H

#include <napi.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "errors.h"
#include "events.h"

struct bpf_object;
struct bpf_link;

namespace tidewatch {

// Fixed TC identity of Tidewatch's filters: cleanup finds leftovers by these.
constexpr unsigned kTcHandle = 0x7477; // "tw"
constexpr unsigned kTcPriority = 0x7477;
// Programs whose name starts with this are Tidewatch's own.
constexpr const char *kProgPrefix = "tw_";

struct TcAttachment {
	int ifindex = 0;
	std::string ifname;
	bool created_qdisc = false; // clsact did not exist before we attached
};

struct Collector {
	std::mutex mu; // serialises every operation on this collector
	bool closed = false;
	bpf_object *obj = nullptr;
	int ncpus = 1; // possible CPUs: per-CPU values come in this many slots
	bool batch_ops = true; // drain with batch lookup-and-delete when the kernel has it

	int config_fd = -1;
	int ifslots_fd = -1;
	int ifslot_direct_fd = -1; // ifindex < TW_IFSLOT_DIRECT -> slot, beside ifslots_fd
	int traffic_fd = -1;
	int errors_fd = -1;
	int tcp_stats_fd = -1;
	int flows_fd[2] = {-1, -1};
	bool flows_percpu = false;
	int flow_pend_fd = -1; // per-CPU write-combining slots in front of the flow tables
	int retrans_fd = -1;
	bool retrans_percpu = false;
	int drops_fd = -1;
	bool drops_percpu = false;
	int events_fd = -1;
	bool events_ringbuf = false;

	std::map<int, TcAttachment> tc; // by ifindex
	std::vector<bpf_link *> tracepoints;
	std::unique_ptr<EventPoller> poller;

	~Collector();
};

using CollectorPtr = std::shared_ptr<Collector>;

// Wraps a collector in a JS external whose finalizer closes it.
Napi::Value WrapCollector(Napi::Env env, CollectorPtr c);
// The collector behind a handle; throws a JS TypeError for anything else.
CollectorPtr UnwrapCollector(const Napi::Value &v);

// Releases everything (poller joined, own TC filters removed, links and the
// object closed). Caller holds c.mu. Idempotent.
void ReleaseCollector(Collector &c);

// Error for operations on a closed collector.
OpError ClosedError();

// Base for operations that return a Promise and run off the JS thread.
// Subclasses implement Run() (worker thread, no JS) and Result() (JS thread).
class PromiseWorker : public Napi::AsyncWorker {
public:
	explicit PromiseWorker(Napi::Env env)
		: Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env))
	{
	}

	Napi::Promise Queue()
	{
		Napi::Promise p = deferred_.Promise();
		Napi::AsyncWorker::Queue();
		return p;
	}

protected:
	virtual OpError Run() = 0;
	virtual Napi::Value Result(Napi::Env env) { return env.Undefined(); }

private:
	void Execute() override { error_ = Run(); }
	void OnOK() override
	{
		Napi::Env env = Env();
		Napi::HandleScope scope(env);
		if (error_.failed()) {
			deferred_.Reject(ToJsError(env, error_).Value());
			return;
		}
		try {
			deferred_.Resolve(Result(env));
		} catch (const Napi::Error &e) {
			deferred_.Reject(e.Value());
		}
	}
	void OnError(const Napi::Error &e) override { deferred_.Reject(e.Value()); }

	Napi::Promise::Deferred deferred_;
	OpError error_;
};

// Helpers for reading JS arguments already validated in TypeScript.
uint32_t U32Arg(const Napi::Object &o, const char *key, uint32_t fallback);

} // namespace tidewatch

#endif

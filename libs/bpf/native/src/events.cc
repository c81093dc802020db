#include "events.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "collector.h"
#include "tidewatch.h"

namespace tidewatch {

namespace {

constexpr int kPollTimeoutMs = 50;

// Events gathered during one poll call, handed to JS in one go.
struct Batch {
	std::vector<tw_conn_event> events;
	uint64_t lost = 0;
	int poll_errno = 0; // set on the last batch when polling failed and stopped
};

thread_local Batch *current_batch = nullptr;

void Collect(const void *data, size_t size)
{
	if (!current_batch || size < sizeof(tw_conn_event))
		return;
	tw_conn_event ev;
	memcpy(&ev, data, sizeof(ev));
	current_batch->events.push_back(ev);
}

void OnPerfSample(void *, int, void *data, uint32_t size)
{
	Collect(data, size);
}

void OnPerfLost(void *, int, unsigned long long lost)
{
	if (current_batch)
		current_batch->lost += lost;
}

int OnRingSample(void *, void *data, size_t size)
{
	Collect(data, size);
	return 0;
}

Napi::Object EventToJs(Napi::Env env, const tw_conn_event &ev)
{
	Napi::Object o = Napi::Object::New(env);
	o.Set("kind", ev.kind);
	o.Set("family", ev.family);
	o.Set("role", ev.role);
	o.Set("timestampNs", Napi::BigInt::New(env, ev.timestamp_ns));
	o.Set("durationNs", Napi::BigInt::New(env, ev.duration_ns));
	o.Set("saddr", Napi::Buffer<uint8_t>::Copy(env, ev.saddr, sizeof(ev.saddr)));
	o.Set("daddr", Napi::Buffer<uint8_t>::Copy(env, ev.daddr, sizeof(ev.daddr)));
	o.Set("sport", ev.sport);
	o.Set("dport", ev.dport);
	return o;
}

void Deliver(Napi::Env env, Napi::Function callback, Batch *batch)
{
	if (env != nullptr && callback != nullptr) {
		Napi::Array events = Napi::Array::New(env, batch->events.size());
		for (size_t i = 0; i < batch->events.size(); i++)
			events.Set(i, EventToJs(env, batch->events[i]));
		Napi::Value error = env.Undefined();
		if (batch->poll_errno) {
			OpError err =
				MakeOpError(batch->poll_errno,
					    "event polling stopped: the buffer could not be read");
			error = ToJsError(env, err).Value();
		}
		callback.Call(
			{events, Napi::Number::New(env, static_cast<double>(batch->lost)), error});
	}
	delete batch;
}

} // namespace

EventPoller::~EventPoller()
{
	Stop();
}

bool EventPoller::ReadLost(uint64_t *sum) const
{
	std::vector<uint64_t> percpu(ncpus_);
	uint32_t key = TW_ERR_EVENT_LOST;
	if (errors_fd_ < 0 || bpf_map_lookup_elem(errors_fd_, &key, percpu.data()))
		return false;
	*sum = 0;
	for (uint64_t v : percpu)
		*sum += v;
	return true;
}

OpError EventPoller::Start(Napi::Env env, Napi::Function callback, int map_fd, bool ringbuf,
			   uint32_t perf_pages, int errors_fd, int ncpus)
{
	errors_fd_ = errors_fd;
	ncpus_ = ncpus > 0 ? ncpus : 1;
	if (ringbuf) {
		// Losses from here on are reported; earlier ones are in readErrors().
		if (!ReadLost(&ring_lost_seen_))
			return MakeOpError(errors_fd_ < 0 ? ENOENT : errno,
					   "cannot read the event-lost counter");
		rb_ = ring_buffer__new(map_fd, OnRingSample, nullptr, nullptr);
		int err = libbpf_get_error(rb_);
		if (err) {
			rb_ = nullptr;
			return MakeOpError(err, "cannot open the event ring buffer");
		}
	} else {
		pb_ = perf_buffer__new(map_fd, perf_pages, OnPerfSample, OnPerfLost, nullptr,
				       nullptr);
		int err = libbpf_get_error(pb_);
		if (err) {
			pb_ = nullptr;
			return MakeOpError(err, "cannot open the event perf buffer");
		}
	}
	// Unbounded queue: the poll thread never blocks on JS, so Stop() on the JS
	// thread can always join it.
	tsfn_ = Napi::ThreadSafeFunction::New(env, callback, "tidewatch-events", 0, 1);
	tsfn_.Unref(env); // events alone do not keep the process alive
	running_ = true;
	thread_ = std::thread([this] { Loop(); });
	return {};
}

void EventPoller::Loop()
{
	while (running_) {
		auto *batch = new Batch();
		current_batch = batch;
		int n = rb_ ? ring_buffer__poll(rb_, kPollTimeoutMs) :
			      perf_buffer__poll(pb_, kPollTimeoutMs);
		current_batch = nullptr;
		// bpf_ringbuf_output fails only when the ring is full; the kernel
		// counts each failure in tw_errors. Report the growth as lost.
		uint64_t lost = 0;
		if (rb_ && ReadLost(&lost) && lost > ring_lost_seen_) {
			batch->lost += lost - ring_lost_seen_;
			ring_lost_seen_ = lost;
		}
		// What the failing poll gathered is still delivered, losses included,
		// with the error: polling stops and JS must hear of it.
		bool failed = n < 0 && n != -EINTR;
		if (failed)
			batch->poll_errno = -n;
		if (batch->events.empty() && !batch->lost && !failed)
			delete batch;
		else if (tsfn_.NonBlockingCall(batch, Deliver) != napi_ok)
			delete batch;
		if (failed)
			break;
	}
}

void EventPoller::Stop()
{
	if (thread_.joinable()) {
		running_ = false;
		thread_.join();
	}
	if (tsfn_) {
		tsfn_.Release();
		tsfn_ = Napi::ThreadSafeFunction();
	}
	if (rb_)
		ring_buffer__free(rb_);
	rb_ = nullptr;
	if (pb_)
		perf_buffer__free(pb_);
	pb_ = nullptr;
}

namespace {

class StopWorker : public PromiseWorker {
public:
	StopWorker(Napi::Env env, CollectorPtr c) : PromiseWorker(env), c_(std::move(c)) {}

protected:
	OpError Run() override
	{
		std::lock_guard<std::mutex> lock(c_->mu);
		if (c_->poller) {
			c_->poller->Stop();
			c_->poller.reset();
		}
		return {};
	}

private:
	CollectorPtr c_;
};

} // namespace

Napi::Value StartEvents(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	CollectorPtr c = UnwrapCollector(info[0]);
	Napi::Function callback = info[1].As<Napi::Function>();
	uint32_t pages = info[2].IsNumber() ? info[2].As<Napi::Number>().Uint32Value() : 64;
	std::lock_guard<std::mutex> lock(c->mu);
	if (c->closed)
		throw ToJsError(env, ClosedError());
	if (c->events_fd < 0)
		throw ToJsError(env,
				OpError{ENOENT,
					"cannot poll events: the BPF object has no tw_events"});
	if (c->poller)
		throw ToJsError(env, OpError{EEXIST, "cannot poll events: already polling"});
	auto poller = std::make_unique<EventPoller>();
	OpError err = poller->Start(env, callback, c->events_fd, c->events_ringbuf, pages,
				    c->errors_fd, c->ncpus);
	if (err.failed())
		throw ToJsError(env, err);
	c->poller = std::move(poller);
	return env.Undefined();
}

Napi::Value StopEvents(const Napi::CallbackInfo &info)
{
	return (new StopWorker(info.Env(), UnwrapCollector(info[0])))->Queue();
}

} // namespace tidewatch

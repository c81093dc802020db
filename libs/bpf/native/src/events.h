// Connection events from tw_events (perf buffer or ring buffer), polled on a
// native thread and delivered to JS through a thread-safe function.
#ifndef TIDEWATCH_EVENTS_H
#define TIDEWATCH_EVENTS_H

#include <napi.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include "errors.h"

struct perf_buffer;
struct ring_buffer;

namespace tidewatch {

class EventPoller {
public:
	EventPoller() = default;
	~EventPoller();
	// Starts the poll thread; callback(events: object[], lost: number,
	// error?: Error), error only on the last call when polling failed.
	// errors_fd/ncpus: tw_errors, whose TW_ERR_EVENT_LOST gives the ring
	// buffer's losses (a ring buffer has no lost records of its own).
	OpError Start(Napi::Env env, Napi::Function callback, int map_fd, bool ringbuf,
		      uint32_t perf_pages, int errors_fd, int ncpus);
	// Stops and joins the poll thread. Safe to call twice; never from the
	// poll thread itself.
	void Stop();

private:
	void Loop();
	// Sum over CPUs of tw_errors[TW_ERR_EVENT_LOST]; false when unreadable.
	bool ReadLost(uint64_t *sum) const;

	perf_buffer *pb_ = nullptr;
	ring_buffer *rb_ = nullptr;
	Napi::ThreadSafeFunction tsfn_;
	std::thread thread_;
	std::atomic<bool> running_{false};
	int errors_fd_ = -1;
	int ncpus_ = 1;
	uint64_t ring_lost_seen_ = 0; // ring buffer: losses already reported
};

// startEvents(handle, callback, perfPages): void
Napi::Value StartEvents(const Napi::CallbackInfo &info);
// stopEvents(handle): Promise<void>
Napi::Value StopEvents(const Napi::CallbackInfo &info);

} // namespace tidewatch

#endif

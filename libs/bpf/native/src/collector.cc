#include "collector.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "events.h"
#include "tc_attach.h"

namespace tidewatch {

Collector::~Collector()
{
	std::lock_guard<std::mutex> lock(mu);
	ReleaseCollector(*this);
}

void ReleaseCollector(Collector &c)
{
	if (c.closed)
		return;
	c.closed = true;
	if (c.poller) {
		c.poller->Stop();
		c.poller.reset();
	}
	for (auto &entry : c.tc)
		DetachOwnFilters(entry.second);
	c.tc.clear();
	for (bpf_link *link : c.tracepoints)
		bpf_link__destroy(link);
	c.tracepoints.clear();
	if (c.obj)
		bpf_object__close(c.obj);
	c.obj = nullptr;
}

OpError ClosedError()
{
	return OpError{EBADF, "the collector is closed"};
}

namespace {

struct Holder {
	CollectorPtr ptr;
};

const napi_type_tag kCollectorTag = {0x74696465776174ULL, 0x63685f636f6c6cULL};

} // namespace

Napi::Value WrapCollector(Napi::Env env, CollectorPtr c)
{
	auto *holder = new Holder{std::move(c)};
	auto ext = Napi::External<Holder>::New(env, holder, [](Napi::Env, Holder *h) { delete h; });
	ext.TypeTag(&kCollectorTag);
	return ext;
}

CollectorPtr UnwrapCollector(const Napi::Value &v)
{
	if (!v.IsExternal() || !v.As<Napi::External<Holder>>().CheckTypeTag(&kCollectorTag))
		throw Napi::TypeError::New(v.Env(), "expected a collector handle");
	return v.As<Napi::External<Holder>>().Data()->ptr;
}

uint32_t U32Arg(const Napi::Object &o, const char *key, uint32_t fallback)
{
	Napi::Value v = o.Get(key);
	if (!v.IsNumber())
		return fallback;
	return v.As<Napi::Number>().Uint32Value();
}

} // namespace tidewatch

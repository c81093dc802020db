// Entry point: registers the exports, nothing else.
#include <napi.h>

#include "close.h"
#include "drain_flows.h"
#include "errors.h"
#include "events.h"
#include "open.h"
#include "probe.h"
#include "prog_stats.h"
#include "read_counters.h"
#include "read_tables.h"
#include "tc_attach.h"
#include "tracepoints.h"
#include "write_maps.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports)
{
	tidewatch::InstallLibbpfLog();
	exports.Set("open", Napi::Function::New(env, tidewatch::Open));
	exports.Set("close", Napi::Function::New(env, tidewatch::Close));
	exports.Set("ifIndex", Napi::Function::New(env, tidewatch::IfIndex));
	exports.Set("attachTc", Napi::Function::New(env, tidewatch::AttachTc));
	exports.Set("detachTc", Napi::Function::New(env, tidewatch::DetachTc));
	exports.Set("cleanupStale", Napi::Function::New(env, tidewatch::CleanupStale));
	exports.Set("attachTracepoints", Napi::Function::New(env, tidewatch::AttachTracepoints));
	exports.Set("detachTracepoints", Napi::Function::New(env, tidewatch::DetachTracepoints));
	exports.Set("writeConfig", Napi::Function::New(env, tidewatch::WriteConfig));
	exports.Set("readConfig", Napi::Function::New(env, tidewatch::ReadConfig));
	exports.Set("setFlowsEnabled", Napi::Function::New(env, tidewatch::SetFlowsEnabled));
	exports.Set("setIfSlot", Napi::Function::New(env, tidewatch::SetIfSlot));
	exports.Set("deleteIfSlot", Napi::Function::New(env, tidewatch::DeleteIfSlot));
	exports.Set("readTraffic", Napi::Function::New(env, tidewatch::ReadTraffic));
	exports.Set("readCounters", Napi::Function::New(env, tidewatch::ReadCounters));
	exports.Set("readRetransmits", Napi::Function::New(env, tidewatch::ReadRetransmits));
	exports.Set("readDrops", Napi::Function::New(env, tidewatch::ReadDrops));
	exports.Set("drainFlows", Napi::Function::New(env, tidewatch::DrainFlows));
	exports.Set("startEvents", Napi::Function::New(env, tidewatch::StartEvents));
	exports.Set("stopEvents", Napi::Function::New(env, tidewatch::StopEvents));
	exports.Set("programStats", Napi::Function::New(env, tidewatch::ProgramStats));
	exports.Set("probeKernel", Napi::Function::New(env, tidewatch::ProbeKernel));
	return exports;
}

} // namespace

NODE_API_MODULE(tidewatch, Init)

// Per-program run count and run time (kernel.bpf_stats_enabled=1 fills them).
#ifndef TIDEWATCH_PROG_STATS_H
#define TIDEWATCH_PROG_STATS_H

#include <napi.h>

namespace tidewatch {

// programStats(handle): {name, id, runCount, runTimeNs, recursionMisses: bigint}[]
Napi::Value ProgramStats(const Napi::CallbackInfo &info);

} // namespace tidewatch

#endif

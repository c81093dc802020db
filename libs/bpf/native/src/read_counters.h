// Reads of the per-CPU counter arrays, summed over CPUs.
#ifndef TIDEWATCH_READ_COUNTERS_H
#define TIDEWATCH_READ_COUNTERS_H

#include <napi.h>

namespace tidewatch {

// readTraffic(handle, slots: number[]): Promise<BigUint64Array> with, for each
// slot in order, TW_DIR_MAX*TW_FAM_MAX*TW_PROTO_MAX (packets, bytes) pairs.
Napi::Value ReadTraffic(const Napi::CallbackInfo &info);
// readCounters(handle, "errors" | "tcp"): BigUint64Array indexed by the enum.
Napi::Value ReadCounters(const Napi::CallbackInfo &info);

} // namespace tidewatch

#endif

// drainFlows(handle): swap the active flow map, then read and empty the idle
// one, so increments that land during the read go to the other map.
#ifndef TIDEWATCH_DRAIN_FLOWS_H
#define TIDEWATCH_DRAIN_FLOWS_H

#include <napi.h>

namespace tidewatch {

// Promise<Flow[]> with per-CPU values summed.
Napi::Value DrainFlows(const Napi::CallbackInfo &info);

} // namespace tidewatch

#endif

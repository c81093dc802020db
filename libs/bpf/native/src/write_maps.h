// Small synchronous map writes: config knobs and interface slots.
#ifndef TIDEWATCH_WRITE_MAPS_H
#define TIDEWATCH_WRITE_MAPS_H

#include <napi.h>

namespace tidewatch {

// writeConfig(handle, key, value: bigint): void
Napi::Value WriteConfig(const Napi::CallbackInfo &info);
// readConfig(handle, key): bigint
Napi::Value ReadConfig(const Napi::CallbackInfo &info);
// setFlowsEnabled(handle, on: boolean): void — only TW_FLOWS_ON of
// tw_config[TW_CFG_FLOWS], under the lock the drain flips its table bit under
Napi::Value SetFlowsEnabled(const Napi::CallbackInfo &info);
// setIfSlot(handle, ifindex, slot): void — zeroes the slot's counters first
Napi::Value SetIfSlot(const Napi::CallbackInfo &info);
// deleteIfSlot(handle, ifindex): void
Napi::Value DeleteIfSlot(const Napi::CallbackInfo &info);

} // namespace tidewatch

#endif

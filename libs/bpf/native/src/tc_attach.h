// TC clsact attachment of tw_tc_ingress / tw_tc_egress through bpf_tc_*.
#ifndef TIDEWATCH_TC_ATTACH_H
#define TIDEWATCH_TC_ATTACH_H

#include <napi.h>

#include "collector.h"

namespace tidewatch {

// ifIndex(name): number, or throws ENODEV.
Napi::Value IfIndex(const Napi::CallbackInfo &info);
// attachTc(handle, ifname): Promise<{ifindex, createdQdisc}>.
Napi::Value AttachTc(const Napi::CallbackInfo &info);
// detachTc(handle, ifname): Promise<void>.
Napi::Value DetachTc(const Napi::CallbackInfo &info);
// cleanupStale(ifname): Promise<number> of Tidewatch filters removed.
Napi::Value CleanupStale(const Napi::CallbackInfo &info);

// Removes this collector's filters from one interface and the clsact qdisc
// when we created it and nothing else uses it. Best effort: the interface may
// be gone already.
void DetachOwnFilters(const TcAttachment &a);

} // namespace tidewatch

#endif

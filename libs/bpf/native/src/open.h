// open(path, options): open the BPF object, size its maps, load it.
#ifndef TIDEWATCH_OPEN_H
#define TIDEWATCH_OPEN_H

#include <napi.h>

namespace tidewatch {

Napi::Value Open(const Napi::CallbackInfo &info);

} // namespace tidewatch

#endif

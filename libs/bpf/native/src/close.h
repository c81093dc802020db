// close(handle): stop the poller, remove own TC filters, destroy links, close
// the object. Idempotent.
#ifndef TIDEWATCH_CLOSE_H
#define TIDEWATCH_CLOSE_H

#include <napi.h>

namespace tidewatch {

// Promise<void>
Napi::Value Close(const Napi::CallbackInfo &info);

} // namespace tidewatch

#endif

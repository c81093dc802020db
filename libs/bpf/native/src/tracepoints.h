// Tracepoint attachment (sock/inet_sock_set_state, tcp/tcp_retransmit_skb,
// skb/kfree_skb): fixed formats, no BTF needed.
#ifndef TIDEWATCH_TRACEPOINTS_H
#define TIDEWATCH_TRACEPOINTS_H

#include <napi.h>

namespace tidewatch {

// attachTracepoints(handle): Promise<string[]> of the programs attached.
Napi::Value AttachTracepoints(const Napi::CallbackInfo &info);
// detachTracepoints(handle): Promise<void>.
Napi::Value DetachTracepoints(const Napi::CallbackInfo &info);

} // namespace tidewatch

#endif

// Kernel capabilities only a bpf() call can tell: the TypeScript probe reads
// everything else from /proc and /sys.
#ifndef TIDEWATCH_PROBE_H
#define TIDEWATCH_PROBE_H

#include <napi.h>

namespace tidewatch {

// probeKernel(): {bpfSyscall: errno (0 = usable), schedCls, tracepoint,
// perfEventArray, ringbuf, batchOps, gsoSegs: boolean}
Napi::Value ProbeKernel(const Napi::CallbackInfo &info);

} // namespace tidewatch

#endif

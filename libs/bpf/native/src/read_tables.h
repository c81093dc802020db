// Reads of the retransmit and drop tables (hashes, maybe per-CPU), summed.
#ifndef TIDEWATCH_READ_TABLES_H
#define TIDEWATCH_READ_TABLES_H

#include <napi.h>

namespace tidewatch {

// readRetransmits(handle): Promise<{family, saddr, daddr, sport, dport, count}[]>
Napi::Value ReadRetransmits(const Napi::CallbackInfo &info);
// readDrops(handle): Promise<{reason, count}[]>
Napi::Value ReadDrops(const Napi::CallbackInfo &info);

} // namespace tidewatch

#endif

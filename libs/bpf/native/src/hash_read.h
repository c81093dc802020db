// Reading a BPF hash map whole, with per-CPU values folded into one by a
// caller-supplied function. Used by the flow drain and the table reads.
#ifndef TIDEWATCH_HASH_READ_H
#define TIDEWATCH_HASH_READ_H

#include <bpf/bpf.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <vector>

namespace tidewatch {

// Raw per-entry bytes: key, and value as ncpus (per-CPU) or 1 copies, each
// rounded up to 8 bytes for per-CPU maps as the kernel lays them out.
struct RawEntries {
	size_t key_size = 0;
	size_t value_stride = 0; // bytes per CPU copy
	size_t copies = 1;
	std::vector<uint8_t> keys;
	std::vector<uint8_t> values;
	size_t count() const { return key_size ? keys.size() / key_size : 0; }
	const uint8_t *key(size_t i) const { return keys.data() + i * key_size; }
	const uint8_t *value(size_t i, size_t cpu) const
	{
		return values.data() + (i * copies + cpu) * value_stride;
	}
};

// Reads every entry; with remove, deletes what it read (batch op when allowed
// and the kernel has it, else key by key). Returns 0 or -errno.
int ReadHash(int fd, size_t key_size, size_t value_size, bool percpu, int ncpus, bool remove,
	     bool batch, RawEntries *out);

} // namespace tidewatch

#endif

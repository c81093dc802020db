#include "hash_read.h"

namespace tidewatch {

namespace {

int ReadBatch(int fd, uint32_t max_entries, RawEntries *out)
{
	const uint32_t chunk = 256;
	std::vector<uint8_t> keys(chunk * out->key_size);
	std::vector<uint8_t> values(chunk * out->copies * out->value_stride);
	uint64_t in_batch = 0, out_batch = 0; // hash batch tokens are 4 bytes; 8 is safe
	bool first = true;
	uint32_t seen = 0;
	for (;;) {
		uint32_t count = chunk;
		int err = bpf_map_lookup_and_delete_batch(fd, first ? nullptr : &in_batch,
							  &out_batch, keys.data(), values.data(),
							  &count, nullptr);
		if (err && errno != ENOENT)
			return -errno;
		out->keys.insert(out->keys.end(), keys.begin(),
				 keys.begin() + count * out->key_size);
		out->values.insert(out->values.end(), values.begin(),
				   values.begin() + count * out->copies * out->value_stride);
		seen += count;
		if (err) // ENOENT: the map is empty now
			return 0;
		in_batch = out_batch;
		first = false;
		if (seen > max_entries * 2u)
			return 0;
	}
}

int ReadIterate(int fd, bool remove, RawEntries *out)
{
	std::vector<uint8_t> key(out->key_size), next(out->key_size);
	std::vector<uint8_t> value(out->copies * out->value_stride);
	bool first = true;
	std::vector<uint8_t> all_keys;
	while (bpf_map_get_next_key(fd, first ? nullptr : key.data(), next.data()) == 0) {
		all_keys.insert(all_keys.end(), next.begin(), next.end());
		key = next;
		first = false;
	}
	for (size_t off = 0; off < all_keys.size(); off += out->key_size) {
		const uint8_t *k = all_keys.data() + off;
		if (bpf_map_lookup_elem(fd, k, value.data()))
			continue; // deleted under us
		if (remove)
			bpf_map_delete_elem(fd, k);
		out->keys.insert(out->keys.end(), k, k + out->key_size);
		out->values.insert(out->values.end(), value.begin(), value.end());
	}
	return 0;
}

} // namespace

int ReadHash(int fd, size_t key_size, size_t value_size, bool percpu, int ncpus, bool remove,
	     bool batch, RawEntries *out)
{
	out->key_size = key_size;
	out->copies = percpu ? ncpus : 1;
	out->value_stride = percpu ? (value_size + 7) / 8 * 8 : value_size;
	out->keys.clear();
	out->values.clear();
	if (remove && batch) {
		bpf_map_info info;
		memset(&info, 0, sizeof(info));
		uint32_t len = sizeof(info);
		uint32_t max_entries = 1u << 20;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len))
			max_entries = info.max_entries;
		int err = ReadBatch(fd, max_entries, out);
		if (err == 0)
			return 0;
		if (!out->keys.empty())
			return err; // failed midway: what was read is gone, say so
		// No batch ops on this kernel (EINVAL/ENOTSUPP): key by key.
		out->keys.clear();
		out->values.clear();
	}
	return ReadIterate(fd, remove, out);
}

} // namespace tidewatch

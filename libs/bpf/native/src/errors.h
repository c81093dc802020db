// Errors from libbpf and the kernel, turned into JS errors a person can act on.
#ifndef TIDEWATCH_ERRORS_H
#define TIDEWATCH_ERRORS_H

#include <napi.h>

#include <string>

namespace tidewatch {

// Result of a native operation: err is a positive errno, 0 on success.
struct OpError {
	int err = 0;
	std::string message;

	bool failed() const { return err != 0; }
};

// Symbolic name of an errno ("ENOENT"), "E<n>" when unknown.
std::string ErrnoName(int err);

// The sentence for a permission failure, shared by every operation.
std::string PermissionHint();

// Builds an OpError whose message is "<what>: <reason>", with reason derived
// from err (permission denied, no such interface, ...).
OpError MakeOpError(int err, const std::string &what);

// A JS Error with .errno and .code set.
Napi::Error ToJsError(Napi::Env env, const OpError &e);

// libbpf's log lines on this thread since the last call, kept for load
// failures (the verifier's verdict).
void InstallLibbpfLog();
std::string TakeLibbpfLog(size_t max_lines);

} // namespace tidewatch

#endif

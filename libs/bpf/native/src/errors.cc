#include "errors.h"

#include <bpf/libbpf.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <deque>

namespace tidewatch {

namespace {

// Per thread: libbpf logs on the thread that calls it, so concurrent opens
// on different worker threads keep their verdicts apart.
thread_local std::deque<std::string> log_lines;

int LibbpfPrint(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	char buf[1024];
	int n = vsnprintf(buf, sizeof(buf), fmt, args);
	std::string text(buf);
	size_t start = 0;
	while (start < text.size()) {
		size_t end = text.find('\n', start);
		if (end == std::string::npos)
			end = text.size();
		if (end > start)
			log_lines.emplace_back(text.substr(start, end - start));
		start = end + 1;
	}
	while (log_lines.size() > 200)
		log_lines.pop_front();
	return n;
}

} // namespace

std::string ErrnoName(int err)
{
	switch (err) {
	case EPERM:
		return "EPERM";
	case ENOENT:
		return "ENOENT";
	case ESRCH:
		return "ESRCH";
	case EINTR:
		return "EINTR";
	case EIO:
		return "EIO";
	case E2BIG:
		return "E2BIG";
	case EBADF:
		return "EBADF";
	case EAGAIN:
		return "EAGAIN";
	case ENOMEM:
		return "ENOMEM";
	case EACCES:
		return "EACCES";
	case EFAULT:
		return "EFAULT";
	case EBUSY:
		return "EBUSY";
	case EEXIST:
		return "EEXIST";
	case ENODEV:
		return "ENODEV";
	case EINVAL:
		return "EINVAL";
	case EMFILE:
		return "EMFILE";
	case ENOSPC:
		return "ENOSPC";
	case ERANGE:
		return "ERANGE";
	case ENOSYS:
		return "ENOSYS";
	case ENOTSUP:
		return "ENOTSUP";
	case ENOTCONN:
		return "ENOTCONN";
	case ESHUTDOWN:
		return "ESHUTDOWN";
	case ENOEXEC:
		return "ENOEXEC";
	case 524:
		return "ENOTSUPP"; // kernel-internal, leaks out of some bpf calls
	default:
		return "E" + std::to_string(err);
	}
}

std::string PermissionHint()
{
	return "permission denied: the agent needs CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN "
	       "(CAP_SYS_ADMIN and CAP_NET_ADMIN below kernel 5.8); run it as root or grant "
	       "these capabilities";
}

OpError MakeOpError(int err, const std::string &what)
{
	if (err < 0)
		err = -err;
	if (err == 0)
		err = EINVAL;
	std::string reason;
	switch (err) {
	case EPERM:
	case EACCES:
		reason = PermissionHint();
		break;
	case ENODEV:
		reason = "no such interface";
		break;
	case ENOMEM:
		reason = "out of kernel memory (check the locked-memory limit, ulimit -l, "
			 "and the map sizes)";
		break;
	case ENOSYS:
		reason = "the kernel has no bpf() system call (CONFIG_BPF_SYSCALL off)";
		break;
	case EMFILE:
		reason = "too many open files (raise ulimit -n)";
		break;
	case 524:
	case ENOTSUP:
		reason = "not supported by this kernel";
		break;
	default:
		reason = strerror(err);
		break;
	}
	return OpError{err, what + ": " + reason};
}

Napi::Error ToJsError(Napi::Env env, const OpError &e)
{
	Napi::Error error = Napi::Error::New(env, e.message);
	error.Set("errno", Napi::Number::New(env, e.err));
	error.Set("code", Napi::String::New(env, ErrnoName(e.err)));
	return error;
}

void InstallLibbpfLog()
{
	libbpf_set_print(LibbpfPrint);
}

std::string TakeLibbpfLog(size_t max_lines)
{
	size_t skip = log_lines.size() > max_lines ? log_lines.size() - max_lines : 0;
	std::string out;
	for (size_t i = skip; i < log_lines.size(); i++) {
		out += log_lines[i];
		out += '\n';
	}
	log_lines.clear();
	return out;
}

} // namespace tidewatch

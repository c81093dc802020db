#include "tc_filters.h"

#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tidewatch {

namespace {

struct FdGuard {
	int fd;
	~FdGuard()
	{
		if (fd >= 0)
			close(fd);
	}
};

} // namespace

int CountTcFilters(int ifindex, bool ingress)
{
	FdGuard sock{socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)};
	if (sock.fd < 0)
		return -errno;

	struct {
		nlmsghdr nh;
		tcmsg tc;
	} req;
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(tcmsg));
	req.nh.nlmsg_type = RTM_GETTFILTER;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nh.nlmsg_seq = 1;
	req.tc.tcm_family = AF_UNSPEC;
	req.tc.tcm_ifindex = ifindex;
	req.tc.tcm_parent = TC_H_MAKE(TC_H_CLSACT, ingress ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS);
	if (send(sock.fd, &req, req.nh.nlmsg_len, 0) < 0)
		return -errno;

	int count = 0;
	alignas(nlmsghdr) char buf[16384];
	for (;;) {
		ssize_t len = recv(sock.fd, buf, sizeof(buf), 0);
		if (len < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (nlmsghdr *nh = reinterpret_cast<nlmsghdr *>(buf); NLMSG_OK(nh, len);
		     nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_type == NLMSG_DONE)
				return count;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				auto *e = static_cast<nlmsgerr *>(NLMSG_DATA(nh));
				return e->error;
			}
			if (nh->nlmsg_type == RTM_NEWTFILTER)
				count++;
		}
	}
}

} // namespace tidewatch

// Counts the TC filters on a clsact hook through a netlink dump (libbpf's
// bpf_tc_* API can query one filter but cannot list them).
#ifndef TIDEWATCH_TC_FILTERS_H
#define TIDEWATCH_TC_FILTERS_H

namespace tidewatch {

// Filters (of any owner) on ifindex's clsact ingress or egress; -errno on error.
int CountTcFilters(int ifindex, bool ingress);

} // namespace tidewatch

#endif

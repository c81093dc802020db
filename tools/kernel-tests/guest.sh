#!/bin/bash
# Runs inside an old-kernel guest (run.js boots it with ../shared/kernels/run-VERSION.sh):
# the tests that prove the collector on that kernel, from this checkout, as root,
# CI=true (a test that cannot run fails). The counts leave the guest as one
# "tw-kt-result" console line (guest-reporter.js). Exit 0 only when all passed.
#   guest.sh 4.19|5.10
set -u
cd "$(dirname "$0")/../.."
version=${1:?usage: guest.sh 4.19|5.10}
export CI=true TW_GUEST_KERNEL=$version
# The kernel tests run the object the agent picks here (the probe's choice,
# checked by objects.spec.ts and doctor.e2e-spec.ts): legacy on 4.19 (no ring
# buffer), modern on 5.10. objects.spec.ts and doctor.e2e-spec.ts load the
# legacy object on 5.10 too (the fallback), and check 4.19 refuses the modern one.
case $version in
  4.19) export TW_TEST_OBJECTS=legacy ;;
  *) export TW_TEST_OBJECTS=modern ;;
esac
# One CPU: the tests run one at a time (--runInBand), and under emulation a
# second CPU costs the host a fifth to a third more CPU time for the same run
# (measured, qemu's user+sys); two guests side by side share the host's cores.
# Several CPUs (per-CPU maps summed, a ring per CPU) are covered on the host.
for c in /sys/devices/system/cpu/cpu[1-9]*/online; do
  [ -e "$c" ] && echo 0 > "$c"
done
echo "tw-kt-guest Linux $(uname -r), JIT $(cat /proc/sys/net/core/bpf_jit_enable), $(nproc) CPU, objects $TW_TEST_OBJECTS"

# The files: tools/kernel-tests/jest.guest.config.js (transpiled on the host
# by run.js before the guest boots).
exec node node_modules/jest/bin/jest.js --config tools/kernel-tests/jest.guest.config.js \
  --runInBand --ci

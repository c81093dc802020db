// Jest config for the tests inside an old-kernel guest: one jest process for
// every project (each start costs seconds under emulation), each project with
// its own config but transpiled without type checking (the host suite
// type-checks the same files; under emulation the checker costs minutes),
// reporting through guest-reporter.js to the console, the guest's only way out.
//
// The files the guests run are listed here, once: run.js transpiles them on
// the host into CACHE_DIR before it boots a guest (the guest sees the host's
// files), so the guest's jest finds every transform already made.
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
// libs/bpf: the verifier (every program), exact counters for every class over
// IPv4/IPv6, TCP lifecycle, flows and a full table, the interpreter (JIT off),
// ICMP port unreachables naming the refused UDP port.
// apps/agent: doctor's truth on this kernel; standalone with /metrics exact and
// no filter left after it stops. (lifecycle.spec.ts's 100-cycle, non-root and
// per-program-stats tests run on the host only: minutes under emulation.)
const TESTS = {
  'libs/bpf': [
    'test/objects.spec.ts',
    'test/traffic.spec.ts',
    'test/tcp.spec.ts',
    'test/flows.spec.ts',
    'test/interpreter.spec.ts',
    'test/port-unreach.spec.ts',
  ],
  'apps/agent': ['test/doctor.e2e-spec.ts', 'test/standalone.e2e-spec.ts'],
};
const PROJECTS = (process.env.TW_KT_PROJECTS ?? Object.keys(TESTS).join(',')).split(',');
const CACHE_DIR = path.join(ROOT, 'node_modules', '.cache', 'tw-kernel-tests', 'jest');

module.exports = {
  cacheDirectory: CACHE_DIR,
  projects: PROJECTS.map((p) => {
    const rootDir = path.join(ROOT, p);
    const { reporters: _ignored, ...own } = require(path.join(rootDir, 'jest.config.js'));
    return {
      ...own,
      rootDir,
      cacheDirectory: CACHE_DIR,
      testMatch: TESTS[p].map((t) => `<rootDir>/${t}`),
      transform: {
        '^.+\\.ts$': ['ts-jest', { tsconfig: path.join(__dirname, 'tsconfig.guest.json') }],
      },
    };
  }),
  reporters: ['default', [path.join(__dirname, 'guest-reporter.js'), {}]],
};

// Jest config for the tests inside an old-kernel guest: one jest process for
// every project (each start costs seconds under emulation), each project with
// its own config but transpiled without type checking (the host suite
// type-checks the same files; under emulation the checker costs minutes),
// reporting through guest-reporter.js to the console, the guest's only way out.
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const PROJECTS = (process.env.TW_KT_PROJECTS ?? 'libs/bpf,apps/agent').split(',');

module.exports = {
  projects: PROJECTS.map((p) => {
    const rootDir = path.join(ROOT, p);
    const { reporters: _ignored, ...own } = require(path.join(rootDir, 'jest.config.js'));
    return {
      ...own,
      rootDir,
      transform: {
        '^.+\\.ts$': ['ts-jest', { tsconfig: path.join(__dirname, 'tsconfig.guest.json') }],
      },
    };
  }),
  reporters: ['default', [path.join(__dirname, 'guest-reporter.js'), {}]],
};

const preset = require('../../jest.preset.js');

module.exports = {
  ...preset,
  displayName: 'console',
  moduleNameMapper: { '^@/(.*)$': '<rootDir>/src/$1' },
  // Unit tests of the views' logic (formatting, units, time zones, URL state, series gaps),
  // then the browser test against the real server (test/*.e2e-spec.ts).
  testMatch: [...preset.testMatch],
  // Two files at a time: each browser spec starts its own stack (database, server, console,
  // chromium) on ports of its own, and spends most of its time waiting on them.
  maxWorkers: 2,
};

const preset = require('../../jest.preset.js');

module.exports = {
  ...preset,
  displayName: 'console',
  moduleNameMapper: { '^@/(.*)$': '<rootDir>/src/$1' },
  // Unit tests of the views' logic (formatting, units, time zones, URL state, series gaps),
  // then the browser test against the real server (test/*.e2e-spec.ts).
  testMatch: [...preset.testMatch],
};

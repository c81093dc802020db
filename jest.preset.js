// Shared jest settings. Every project's jest.config.js spreads this preset.
// Times are compared in UTC everywhere: the zone is pinned here, before workers start.
process.env.TZ = 'UTC';

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  moduleFileExtensions: ['ts', 'js', 'json', 'node'],
  testMatch: [
    '<rootDir>/src/**/*.spec.ts',
    '<rootDir>/test/**/*.spec.ts',
    '<rootDir>/test/**/*.e2e-spec.ts',
  ],
  // Every project writes a JSON result next to the others; tools/test.sh sums them.
  reporters: ['default', ['<rootDir>/../../tools/jest-summary-reporter.js', {}]],
};

module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'server',
  // Every test waits on events with its own deadlines; jest's 5 s default for a whole test or
  // hook (a server boot, scrypt at N=2^17) is shorter than a loaded 2-core CI machine needs.
  testTimeout: 60_000,
  // Two files at a time: each has its own database and ports, and most of a file's time is
  // spent waiting on PostgreSQL, a child server or the network, not on the CPU.
  maxWorkers: 2,
};

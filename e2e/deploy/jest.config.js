module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'e2e-deploy',
  // rpmbuild and a real agent + server + Prometheus take longer than jest's 5 s on a loaded machine;
  // every wait inside has its own deadline.
  testTimeout: 180_000,
};

// Prints the directory whose include/node holds this node's headers, so
// node-gyp builds offline against them instead of downloading a tarball.
const { existsSync } = require('fs');
const { resolve } = require('path');
const candidates = [
  process.env.npm_config_nodedir,
  resolve(process.execPath, '..', '..'),
  '/usr',
  '/usr/local',
].filter(Boolean);
const found = candidates.find((d) => existsSync(resolve(d, 'include', 'node', 'node_api.h')));
process.stdout.write(found || '');

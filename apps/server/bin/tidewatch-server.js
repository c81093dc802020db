#!/usr/bin/env node
// Thin shim: the CLI lives in dist (run `npm run build -w @tidewatch/server` first).
require('../dist/main.js');

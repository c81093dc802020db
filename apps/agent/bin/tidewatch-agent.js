#!/usr/bin/env node
// Thin shim: the agent is TypeScript compiled to dist/ by `npm run build -w @tidewatch/agent`.
require('../dist/main.js').main(process.argv);

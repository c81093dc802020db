#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --jitless --no-expose-wasm
// The shebang carries the launch settings a running node cannot take on (src/health/launch-flags.ts);
// `node bin/tidewatch-agent.js` skips them (the agent then says so at start).
// Thin shim: the agent is TypeScript compiled to dist/ by `npm run build -w @tidewatch/agent`.
require('../dist/main.js').main(process.argv);

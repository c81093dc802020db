#!/usr/bin/env bash
# The whole suite: lint, format check, then every project's jest tests.
# Prints one closing line "Tests: N passed, N failed" for the whole run.
set -uo pipefail
cd "$(dirname "$0")/.."
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false
rm -rf test-results
status=0
npx nx run-many -t lint --outputStyle=stream || status=1
npm run --silent format:check || status=1
npx nx run-many -t test --parallel=1 --outputStyle=stream || status=1
# The kernels banks run (4.19, 5.10), each booted under qemu, side by side
# (their lines carry [4.19]/[5.10]): tools/kernel-tests.
npm run --silent test:kernel-4.19 &
k419=$!
npm run --silent test:kernel-5.10 &
k510=$!
wait "$k419" || status=1
wait "$k510" || status=1
node -e '
const fs = require("fs");
let p = 0, f = 0, s = 0;
for (const file of fs.existsSync("test-results") ? fs.readdirSync("test-results") : []) {
  const r = JSON.parse(fs.readFileSync("test-results/" + file, "utf8"));
  p += r.passed; f += r.failed; s += r.skipped;
  console.log(`  ${r.project}: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`);
}
if (p === 0) { console.error("no test ran"); process.exitCode = 1; }
console.log(`Tests: ${p} passed, ${f} failed, ${s} skipped`);
'
[ $? -eq 0 ] || status=1
exit $status

#!/usr/bin/env node
// npm run test:kernel-4.19 / test:kernel-5.10: boots the test kernel under qemu
// (../shared/kernels/run-VERSION.sh, relative to the checkout) and runs
// guest.sh inside it, from this checkout. The guest's files vanish with it, so
// its jest runs print their counts on the console ("tw-kt-result <base64>",
// guest-reporter.js); this script reads them there and writes
// test-results/kernel-VERSION.json for tools/test.sh's closing "Tests:" line.
//
// Without the kernels (or qemu): skipped with the reason, but under CI=true a
// failure, never a skip. Exit code 0 only when every guest step passed.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const { existsSync, mkdirSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const version = process.argv[2];
if (!['4.19', '5.10'].includes(version)) {
  console.error('usage: node tools/kernel-tests/run.js 4.19|5.10');
  process.exit(2);
}
const project = `kernel-${version}`;
const inCi = process.env.CI === 'true' || process.env.CI === '1';
const kernels = path.resolve(ROOT, '..', 'shared', 'kernels');
const script = path.join(kernels, `run-${version}.sh`);

function writeResult(passed, failed, skipped) {
  const dir = path.join(ROOT, 'test-results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, `${project}.json`),
    JSON.stringify({ project, passed, failed, skipped }) + '\n',
  );
}

function cannotRun(reason) {
  if (inCi) {
    console.error(`${project}: FAILED: cannot run under CI=true: ${reason}`);
    writeResult(0, 1, 0);
    process.exit(1);
  }
  console.warn(`${project}: skipped: ${reason}`);
  writeResult(0, 0, 1);
  process.exit(0);
}

if (!existsSync(script)) {
  cannotRun(
    `${script} is missing (the test kernels live in ../shared/kernels next to the checkout)`,
  );
}
if (!existsSync(path.join(kernels, `linux-${version}`, 'bzImage'))) {
  cannotRun(`${kernels}/linux-${version}/bzImage is missing`);
}
if (spawnSync('sh', ['-c', 'command -v qemu-system-x86_64'], { stdio: 'ignore' }).status !== 0) {
  cannotRun('qemu-system-x86_64 is missing (npm run setup installs qemu-system-x86)');
}
const started = Date.now();
// Transpile every file the guest's jest will load here, into the cache it reads
// (jest.guest.config.js): ts-jest under emulation costs the guest minutes. No
// test runs here (a name no test has); a failure only costs the guest the time.
const warm = spawnSync(
  process.execPath,
  [
    path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'),
    '--config',
    path.join(__dirname, 'jest.guest.config.js'),
    '--runInBand',
    '--ci',
    '--silent',
    '--testNamePattern',
    '^tw-kt-warm: no test has this name$',
  ],
  { cwd: ROOT, encoding: 'utf8' },
);
if (warm.status !== 0) {
  console.warn(`${project}: transpiling on the host failed (the guest will):\n${warm.stderr}`);
}
const steps = [];
let pending = '';
// The console: SeaBIOS and the terminal draw with escape codes; lines end in \r\n.
// eslint-disable-next-line no-control-regex
const clean = (s) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1bc|\r/g, '');

function onLine(raw) {
  const line = clean(raw);
  const m = /tw-kt-result ([A-Za-z0-9+/=]+)/.exec(line);
  if (m) {
    try {
      steps.push(JSON.parse(Buffer.from(m[1], 'base64').toString('utf8')));
    } catch (err) {
      steps.push({
        step: 'unreadable result',
        passed: 0,
        failed: 1,
        skipped: 0,
        failures: [String(err)],
      });
    }
    return;
  }
  process.stderr.write(`[${version}] ${line}\n`);
}

console.log(`${project}: booting Linux ${version} under qemu (${script})`);
const child = spawn(
  'bash',
  [script, '--dir', ROOT, '--', `bash tools/kernel-tests/guest.sh ${version}`],
  {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'pipe'],
    // A bound for a hung guest only (run-guest.sh exits 124 after it).
    env: { KERNEL_TIMEOUT: '1500', ...process.env },
  },
);
child.stderr.setEncoding('utf8');
child.stderr.on('data', (chunk) => {
  pending += chunk;
  let i;
  while ((i = pending.indexOf('\n')) >= 0) {
    onLine(pending.slice(0, i));
    pending = pending.slice(i + 1);
  }
});
child.on('close', (code) => {
  if (pending) onLine(pending);
  const secs = Math.round((Date.now() - started) / 1000);
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  console.log(`${project}: guest exited ${code} after ${secs} s`);
  for (const s of steps) {
    passed += s.passed;
    failed += s.failed;
    skipped += s.skipped;
    console.log(`  ${s.step}: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped`);
    for (const f of s.failures ?? []) console.log(`    failed: ${f}`);
  }
  if (steps.length === 0 || (code !== 0 && failed === 0)) {
    // A panic, a time-out (124), or a step that died before reporting.
    console.log(`  the guest ended with exit code ${code} without reporting every failure`);
    failed += 1;
  }
  writeResult(passed, failed, skipped);
  console.log(`${project}: ${passed} passed, ${failed} failed, ${skipped} skipped (${secs} s)`);
  process.exit(failed === 0 && code === 0 ? 0 : 1);
});

import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAUNCH_ENV, LAUNCH_NODE_FLAGS, missingLaunchSettings } from './launch-flags';

const ROOT = join(__dirname, '..', '..', '..', '..');
const BIN = join(ROOT, 'apps', 'agent', 'bin', 'tidewatch-agent.js');
const read = (...p: string[]) => readFileSync(join(ROOT, ...p), 'utf8');
const envWords = Object.entries(LAUNCH_ENV).map(([k, v]) => `${k}=${v}`);

describe('launch settings', () => {
  it('names what a process lacks: node flags (argv or NODE_OPTIONS) and unset variables', () => {
    expect(missingLaunchSettings([], {})).toEqual([...LAUNCH_NODE_FLAGS, ...envWords]);
    expect(missingLaunchSettings(LAUNCH_NODE_FLAGS, { ...LAUNCH_ENV })).toEqual([]);
    expect(
      missingLaunchSettings([], { NODE_OPTIONS: LAUNCH_NODE_FLAGS.join(' '), ...LAUNCH_ENV }),
    ).toEqual([]);
    // An operator's own value is a choice, not a missing setting.
    expect(missingLaunchSettings(LAUNCH_NODE_FLAGS, { MALLOC_ARENA_MAX: '1' })).toEqual([]);
  });

  it('every launcher gives them: the bin, the systemd unit (also the RPM), the image, npm start', () => {
    const shebang = read('apps', 'agent', 'bin', 'tidewatch-agent.js').split('\n')[0];
    expect(shebang).toBe(
      `#!/usr/bin/env -S ${envWords.join(' ')} node ${LAUNCH_NODE_FLAGS.join(' ')}`,
    );
    const unit = read('docker', 'tidewatch-agent.service');
    expect(unit).toMatch(
      new RegExp(
        `^ExecStart=/usr/bin/node ${LAUNCH_NODE_FLAGS.join(' ')} \\S+/tidewatch-agent\\.js run`,
        'm',
      ),
    );
    for (const w of envWords) expect(unit).toMatch(new RegExp(`^Environment=${w}$`, 'm'));
    const image = read('docker', 'agent.Dockerfile');
    const entry = /^ENTRYPOINT (\[.*\])$/m.exec(image)?.[1] ?? '[]';
    expect(JSON.parse(entry)).toEqual([
      '/opt/tidewatch/bin/node',
      ...LAUNCH_NODE_FLAGS,
      '/opt/tidewatch/apps/agent/bin/tidewatch-agent.js',
    ]);
    for (const w of envWords) expect(image).toContain(w);
    expect(read('deploy', 'rpm', 'tidewatch-agent.spec')).toMatch(
      /^Source0:\s+tidewatch-agent\.service$/m,
    );
    expect(read('tools', 'start.js')).toMatch(/LAUNCH_NODE_FLAGS, LAUNCH_ENV/);
  });

  it('the bin started through its shebang runs the agent under them, with nothing on stderr', () => {
    const r = spawnSync(BIN, ['--version'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    // V8 warns on stderr when --jitless meets its default --expose-wasm; --no-expose-wasm quiets it.
    expect(r.stderr).toBe('');
  });

  it("under them, 64-bit arithmetic in protobufjs's long (no WebAssembly) stays exact", () => {
    const script = `
const Long = require('long');
const out = { wasm: typeof WebAssembly };
const a = 0xffffffffffn, b = 0x1fffffn; // product above 2^53, below 2^64
out.mul = Long.fromString(String(a), true).mul(Long.fromString(String(b), true)).toString() === String(a * b);
const big = 18446744073709551557n;
out.div = Long.fromString(String(big), true).div(Long.fromNumber(1000003, true)).toString() === String(big / 1000003n);
out.rem = Long.fromString(String(big), true).mod(Long.fromNumber(1000003, true)).toString() === String(big % 1000003n);
console.log(JSON.stringify(out));`;
    const out = JSON.parse(
      execFileSync(process.execPath, [...LAUNCH_NODE_FLAGS, '-e', script], {
        encoding: 'utf8',
        cwd: join(ROOT, 'libs', 'proto'),
      }),
    );
    expect(out).toEqual({ wasm: 'undefined', mul: true, div: true, rem: true });
  });
});

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateDirError } from './errors';
import { InstanceLock, LOCK_FILE, lockStateDir, StateDirInUseError } from './instance-lock';

function startTicks(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

describe('InstanceLock', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tw-lock-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is held by one process at a time, and released', () => {
    const state = join(dir, 'state');
    const lock = InstanceLock.acquire(state, 'run');
    expect(lock.held).toBe(true);
    expect(JSON.parse(readFileSync(join(state, LOCK_FILE), 'utf8'))).toMatchObject({
      pid: process.pid,
      command: 'run',
    });
    expect(() => InstanceLock.acquire(state, 'top')).toThrow(StateDirInUseError);
    expect(() => InstanceLock.acquire(state, 'top')).toThrow(
      `state directory ${state} is in use by another tidewatch-agent run (pid ${process.pid})`,
    );
    lock.release();
    expect(lock.held).toBe(false);
    expect(existsSync(join(state, LOCK_FILE))).toBe(false);
    InstanceLock.acquire(state, 'run').release();
  });

  it('refuses while a live process holds it: an error that exits with code 4', () => {
    const parent = process.ppid;
    writeFileSync(
      join(dir, LOCK_FILE),
      JSON.stringify({ pid: parent, startTicks: startTicks(parent), command: 'run' }),
    );
    let err: unknown;
    try {
      InstanceLock.acquire(dir, 'run');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StateDirError); // main.ts: StateDirError -> EXIT.STATE (4)
    expect((err as Error).message).toMatch(/in use by another tidewatch-agent run \(pid \d+\)/);
  });

  it('takes over a lock whose process is gone, whose pid was reused, or that is half-written', () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const parent = process.ppid;
    for (const content of [
      JSON.stringify({ pid: dead, startTicks: '1', command: 'run' }),
      JSON.stringify({ pid: parent, startTicks: 'another-life', command: 'run' }),
      '{"pid":',
    ]) {
      writeFileSync(join(dir, LOCK_FILE), content);
      const lock = InstanceLock.acquire(dir, 'run');
      expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
      lock.release();
    }
  });

  it('release leaves a lock that is no longer ours alone', () => {
    const lock = InstanceLock.acquire(dir, 'run');
    writeFileSync(join(dir, LOCK_FILE), '{"pid":1,"startTicks":"x","command":"run"}');
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true);
  });

  it('says clearly when the state directory cannot be created', () => {
    writeFileSync(join(dir, 'file'), 'x');
    expect(() => InstanceLock.acquire(join(dir, 'file', 'state'), 'run')).toThrow(
      /state directory: cannot create .* \(ENOTDIR\): a path component is not a directory/,
    );
  });

  it('lockStateDir: an unusable state directory stops only commands that need it; a live holder stops all', () => {
    writeFileSync(join(dir, 'file'), 'x');
    const unusable = join(dir, 'file', 'state');
    const warnings: string[] = [];
    expect(lockStateDir(unusable, 'top', false, (m) => warnings.push(m))).toBeUndefined();
    expect(warnings[0]).toMatch(/ENOTDIR.*going on without the state directory's lock/);
    expect(() => lockStateDir(unusable, 'run', true, () => undefined)).toThrow(StateDirError);
    const held = InstanceLock.acquire(dir, 'run');
    expect(() => lockStateDir(dir, 'top', false, () => undefined)).toThrow(StateDirInUseError);
    held.release();
  });
});

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTracefs } from './tracefs-mount';

describe('ensureTracefs', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'tw-tracefs-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('leaves a mounted tracefs alone', () => {
    mkdirSync(join(dir, 'b', 'events'), { recursive: true });
    const mounts: string[] = [];
    const r = ensureTracefs({
      roots: [join(dir, 'a'), join(dir, 'b')],
      mounts: join(dir, 'none'),
      caps: new Set(['CAP_SYS_ADMIN']),
      mount: (t) => void mounts.push(t),
    });
    expect(r).toEqual({ state: 'present', root: join(dir, 'b') });
    expect(mounts).toEqual([]);
  });

  it('a tracefs this user may not read is mounted all the same: nothing to mount', () => {
    const mountsFile = join(dir, 'mounts');
    writeFileSync(
      mountsFile,
      `sysfs /sys sysfs rw 0 0\ntracefs ${join(dir, 'a')} tracefs rw 0 0\n`,
    );
    const r = ensureTracefs({
      roots: [join(dir, 'a')],
      mounts: mountsFile,
      caps: new Set(),
      mount: () => {
        throw new Error('must not be called');
      },
    });
    expect(r).toEqual({ state: 'present', root: join(dir, 'a') });
  });

  it('mounts it on the first root with CAP_SYS_ADMIN', () => {
    const target = join(dir, 'a');
    const r = ensureTracefs({
      roots: [target, join(dir, 'b')],
      mounts: join(dir, 'none'),
      caps: new Set(['CAP_SYS_ADMIN', 'CAP_NET_ADMIN']),
      mount: (t) => {
        mkdirSync(join(t, 'events'), { recursive: true });
        return undefined;
      },
    });
    expect(r).toEqual({ state: 'mounted', root: target });
  });

  it('without CAP_SYS_ADMIN: does not try, and says what to do', () => {
    const r = ensureTracefs({
      roots: [join(dir, 'a')],
      mounts: join(dir, 'none'),
      caps: new Set(['CAP_BPF', 'CAP_PERFMON', 'CAP_NET_ADMIN']),
      mount: () => {
        throw new Error('must not be called');
      },
    });
    expect(r.state).toBe('missing');
    expect(r.state === 'missing' && r.reason).toMatch(
      /needs CAP_SYS_ADMIN; mount it where the agent runs: mount -t tracefs/,
    );
  });

  it('a failed mount is reported with its error', () => {
    const r = ensureTracefs({
      roots: [join(dir, 'a')],
      mounts: join(dir, 'none'),
      caps: new Set(['CAP_SYS_ADMIN']),
      mount: () => 'mount: permission denied',
    });
    expect(r.state === 'missing' && r.reason).toMatch(/failed: mount: permission denied/);
  });
});

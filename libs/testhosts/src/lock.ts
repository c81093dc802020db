import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A machine-wide exclusive lock (a directory under /tmp holding the owner's
 * pid), for tests whose ground truth is global — tracepoints see every
 * namespace — and so must not overlap with each other. A lock whose owner
 * died is taken over. Resolves to the release function.
 */
export async function exclusive(name: string, timeoutMs = 300_000): Promise<() => void> {
  const dir = `/tmp/tidewatch-lock-${name}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(`${dir}/pid`, String(process.pid));
      return () => rmSync(dir, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let owner = 0;
    try {
      owner = Number(readFileSync(`${dir}/pid`, 'utf8'));
    } catch {
      // Created but pid not written yet, or removed meanwhile: retry.
    }
    if (owner && !alive(owner)) rmSync(dir, { recursive: true, force: true });
    if (Date.now() > deadline) throw new Error(`timed out waiting for the ${name} lock`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

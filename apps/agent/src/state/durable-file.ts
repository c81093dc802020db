import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  rmdirSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';

// Files of the state directory (spool batches, credential, agent id) are
// written so that a crash leaves each one either absent or complete.

/**
 * A recursive mkdir reports ENOENT when the real trouble is higher up (a
 * read-only file system, a permission): retry the first missing component alone.
 */
export function realMkdirError(path: string, err: unknown): unknown {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return err;
  let missing = path;
  while (!existsSync(dirname(missing)) && dirname(missing) !== missing) missing = dirname(missing);
  try {
    mkdirSync(missing);
    rmdirSync(missing);
  } catch (inner) {
    return inner;
  }
  return err;
}

/** Writes a file so that it is either absent or complete, also across a crash. */
export function writeFileDurably(path: string, data: string | Buffer, mode = 0o600): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Makes the renames and unlinks done in a directory durable, in the order they were done. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

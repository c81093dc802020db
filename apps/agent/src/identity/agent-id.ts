import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurably } from '../state/durable-file';

function uuidFromHash(input: string): string {
  const h = createHash('sha256').update(input).digest();
  h[6] = (h[6] & 0x0f) | 0x50; // version 5 layout (name-based)
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/**
 * Stable per host: configured, else derived from /etc/machine-id (hashed, so
 * the machine id itself never leaves the host), else a random id kept in the
 * state directory.
 */
export function resolveAgentId(configured: string | undefined, stateDir: string): string {
  if (configured) return configured;
  try {
    const machineId = readFileSync('/etc/machine-id', 'utf8').trim();
    if (machineId) return uuidFromHash(`tidewatch-agent:${machineId}`);
  } catch {
    // No machine-id (containers): fall through to the state directory.
  }
  const file = join(stateDir, 'agent-id');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    const id = randomUUID();
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    writeFileDurably(file, id, 0o644);
    return id;
  }
}

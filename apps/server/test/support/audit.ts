import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { generateSigningKeyPem } from '../../src/audit/checkpoint-signing';

let dir: string | null = null;

/** A directory for this test process's audit signing key and checkpoint files, removed at exit. */
export function testAuditDir(): string {
  if (!dir) {
    const d = mkdtempSync(path.join(tmpdir(), `tw-test-audit-${process.pid}-`));
    writeFileSync(path.join(d, 'signing-key.pem'), generateSigningKeyPem().privatePem, {
      mode: 0o600,
    });
    process.once('exit', () => rmSync(d, { recursive: true, force: true }));
    dir = d;
  }
  return dir;
}

/**
 * The audit settings a test server needs: a signing key for this process and one
 * checkpoint file per database (replicas of one database share it, as they would
 * share a volume), syslog off unless the test asks for it.
 */
export function testAuditEnv(databaseUrl: string): Record<string, string> {
  const d = testAuditDir();
  const db = new URL(databaseUrl).pathname.replace(/^\//, '') || randomBytes(4).toString('hex');
  return {
    AUDIT_SIGNING_KEY_FILE: path.join(d, 'signing-key.pem'),
    AUDIT_CHECKPOINT_FILE: path.join(d, `${db}.checkpoints.jsonl`),
    AUDIT_SYSLOG: 'off',
  };
}

import {
  Injectable,
  Logger,
  OnApplicationBootstrap,
  BeforeApplicationShutdown,
} from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import { hostname } from 'node:os';
import { DataSource } from 'typeorm';
import { ConfigurationService } from '../config/configuration.service';
import type { AuditSettings } from './audit-settings';
import { PRIVILEGE_CHECK } from './audit-lockdown';
import { AuditService } from './audit.service';
import { verifyWithDataSource, VerifyMode, VerifyResult } from './audit-verifier';
import { CheckpointLog } from './checkpoint-log';
import {
  AuditKeyError,
  Checkpoint,
  keyId,
  loadSigningKey,
  loadVerifyKey,
  signCheckpoint,
} from './checkpoint-signing';
import { SyslogSink } from './syslog';

export interface CheckpointSigner {
  privateKey: KeyObject;
  publicKey: KeyObject;
  log: CheckpointLog;
}

/** Opens the signing key and checkpoint file the settings name; null when checkpoints are off. */
export function openSigner(s: AuditSettings): CheckpointSigner | null {
  if (!s.checkpointsEnabled) return null;
  if (!s.signingKeyFile || !s.checkpointFile) {
    throw new AuditKeyError(
      'AUDIT_SIGNING_KEY_FILE is not set: audit checkpoints are signed with an Ed25519 key kept outside the database. ' +
        'Create one with `npx tidewatch-server audit keygen --out /etc/tidewatch/audit-signing-key.pem` and set ' +
        'AUDIT_SIGNING_KEY_FILE to it (or AUDIT_CHECKPOINTS=off to run without signed checkpoints, which leaves a ' +
        'consistent rewrite of the trail undetectable)',
    );
  }
  const { privateKey, publicKey } = loadSigningKey(s.signingKeyFile);
  const retired = s.retiredPublicKeyFiles.map((f) => loadVerifyKey(f));
  return { privateKey, publicKey, log: new CheckpointLog(s.checkpointFile, publicKey, retired) };
}

/**
 * Signed checkpoints every ≤ 60 s or 1,000 entries (file + syslog), a heartbeat
 * entry every 5 minutes, and verification against both.
 */
@Injectable()
export class AuditCheckpointService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('audit');
  private readonly settings: AuditSettings;
  private readonly signer: CheckpointSigner | null;
  private readonly syslog: SyslogSink;
  private timers: NodeJS.Timeout[] = [];
  private sinceCheckpoint = 0;
  private lastSequence: bigint | null = null;
  private running: Promise<Checkpoint | null> | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly ds: DataSource,
    private readonly audit: AuditService,
    config: ConfigurationService,
  ) {
    this.settings = config.get('audit');
    // At construction, so that a missing or bad key stops the server before it listens.
    this.signer = openSigner(this.settings);
    this.syslog = new SyslogSink(this.settings.syslog);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.signer) {
      const { checkpoints, problems } = await this.signer.log.read();
      const last = checkpoints[checkpoints.length - 1];
      this.lastSequence = last ? BigInt(last.sequence) : null;
      if (problems.length) {
        // E.g. a rotated key whose public half is not in AUDIT_RETIRED_PUBLIC_KEYS: verify will say so.
        this.logger.warn(
          `checkpoint file ${this.signer.log.file}, line ${problems[0].line}: ${problems[0].reason}`,
        );
      }
      this.logger.log(
        `audit checkpoints signed by key ${keyId(this.signer.publicKey)} into ${this.signer.log.file}`,
      );
    } else {
      this.logger.warn(
        'AUDIT_CHECKPOINTS=off: no signed checkpoints; a database superuser could rewrite the whole audit trail undetected',
      );
    }
    await this.warnIfWritable();
    // Fail closed: a server that cannot write its trail does not start.
    await this.audit.record({
      actor: null,
      source: 'server',
      action: 'server.started',
      outcome: 'success',
      details: {
        hostname: hostname(),
        pid: process.pid,
        checkpoints: this.signer !== null,
        // Which key signs from now on: a rotation is on the trail itself.
        ...(this.signer ? { signingKey: keyId(this.signer.publicKey) } : {}),
      },
    });
    this.unsubscribe = this.audit.onAppend(() => {
      if (++this.sinceCheckpoint >= this.settings.checkpointEveryEntries)
        void this.checkpointSafely();
    });
    const every = (seconds: number, fn: () => void) => {
      const t = setInterval(fn, seconds * 1000);
      t.unref();
      this.timers.push(t);
    };
    every(this.settings.checkpointIntervalSeconds, () => void this.checkpointSafely());
    every(this.settings.heartbeatSeconds, () => void this.heartbeat());
    await this.checkpointSafely();
  }

  async beforeApplicationShutdown(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.unsubscribe?.();
    await this.audit
      .record({
        actor: null,
        source: 'server',
        action: 'server.stopped',
        outcome: 'success',
        details: { hostname: hostname(), pid: process.pid },
      })
      .catch((err: Error) => this.logger.error(`could not record server.stopped: ${err.message}`));
    await this.checkpointSafely();
  }

  get checkpointsEnabled(): boolean {
    return this.signer !== null;
  }

  get syslogState() {
    return this.syslog.state;
  }

  /** Writes a signed checkpoint of the current head (unless it was already checkpointed). */
  checkpoint(): Promise<Checkpoint | null> {
    // One at a time; a caller arriving meanwhile waits for that one and then gets its own.
    const run = async (): Promise<Checkpoint | null> => {
      if (!this.signer) return null;
      const rows: { seq: string; hash: Buffer; count: string }[] = await this.ds.query(
        `SELECT h.seq, h.hash, (SELECT count(*) FROM audit_entries)::text AS count
           FROM (SELECT e.sequence::text AS seq, e.hash FROM audit_entries e
                  ORDER BY e.sequence DESC LIMIT 1) h`,
      );
      this.sinceCheckpoint = 0;
      if (!rows.length) return null;
      const sequence = BigInt(rows[0].seq);
      if (this.lastSequence !== null && sequence <= this.lastSequence) return null;
      const c = signCheckpoint(
        { sequence, hash: rows[0].hash, count: BigInt(rows[0].count) },
        this.signer.privateKey,
        this.signer.publicKey,
      );
      await this.signer.log.append(c);
      this.lastSequence = sequence;
      const before = this.syslog.state.state;
      const sent = await this.syslog.send(JSON.stringify({ event: 'audit.checkpoint', ...c }));
      if (!sent && before !== 'unreachable' && before !== 'off') {
        this.logger.warn(
          `audit checkpoints are not reaching syslog: ${this.syslog.state.error ?? 'unknown'}`,
        );
      }
      return c;
    };
    const next = (this.running ?? Promise.resolve(null)).catch(() => null).then(run);
    this.running = next;
    return next;
  }

  verify(mode: VerifyMode): Promise<VerifyResult> {
    return verifyWithDataSource(this.ds, this.signer?.log ?? null, mode);
  }

  /** The triggers refuse changes either way; a role that owns the table could drop them. */
  private async warnIfWritable(): Promise<void> {
    const [p]: {
      superuser: boolean;
      owner: boolean;
      can_update: boolean;
      can_delete: boolean;
      can_truncate: boolean;
    }[] = await this.ds.query(PRIVILEGE_CHECK);
    const why = [
      p.superuser && 'is a superuser',
      p.owner && 'owns audit_entries',
      p.can_update && 'may UPDATE it',
      p.can_delete && 'may DELETE it',
      p.can_truncate && 'may TRUNCATE it',
    ].filter(Boolean);
    if (why.length) {
      this.logger.warn(
        `the server's database role ${why.join(', ')}: run it under a role that may only SELECT and INSERT the audit trail (\`tidewatch-server audit lock-down\`, README "The audit trail")`,
      );
    }
  }

  private async checkpointSafely(): Promise<void> {
    try {
      await this.checkpoint();
    } catch (err) {
      this.logger.error(`audit checkpoint failed: ${(err as Error).message}`);
    }
  }

  private async heartbeat(): Promise<void> {
    try {
      await this.audit.record({
        actor: null,
        source: 'server',
        action: 'audit.heartbeat',
        outcome: 'success',
        details: { hostname: hostname(), pid: process.pid },
      });
    } catch (err) {
      this.logger.error(`audit heartbeat failed: ${(err as Error).message}`);
    }
  }
}

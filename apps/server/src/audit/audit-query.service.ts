import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ConfigurationService } from '../config/configuration.service';
import { AUDIT_WRITE_LOCK, ENTRY_COLUMNS, EntryRow, fromRow } from './audit-chain';
import type { AuditEntryInput, StoredEntry } from './audit-entry';
import { AuditService } from './audit.service';
import { AuditUnavailableError } from './audit.errors';
import type { TombstoneDetails } from './audit-verifier';

export interface AuditFilter {
  actor?: string;
  /** Exact, or a prefix ending in `.*` (`auth.*`). */
  action?: string;
  target?: string;
  outcome?: string;
  from?: Date;
  to?: Date;
}

export interface PurgeResult {
  purged: string;
  firstPurgedSequence: string | null;
  lastPurgedSequence: string | null;
  tombstoneSequence: string | null;
  retentionDays: number;
}

/** Reading the trail (search, export) and the retention purge. */
@Injectable()
export class AuditQueryService {
  constructor(
    private readonly ds: DataSource,
    private readonly audit: AuditService,
    private readonly config: ConfigurationService,
  ) {}

  /** Newest first; `before` is the cursor (a sequence) the previous page answered. */
  async search(
    f: AuditFilter,
    limit: number,
    before?: bigint,
  ): Promise<{ items: StoredEntry[]; nextBefore: string | null }> {
    const { where, params } = this.where(f);
    if (before !== undefined) {
      params.push(before.toString());
      where.push(`sequence < $${params.length}`);
    }
    params.push(limit + 1);
    const rows: EntryRow[] = await this.ds.query(
      `SELECT ${ENTRY_COLUMNS} FROM audit_entries
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY sequence DESC LIMIT $${params.length}`,
      params,
    );
    const items = rows.slice(0, limit).map(fromRow);
    return {
      items,
      nextBefore: rows.length > limit ? items[items.length - 1].sequence.toString() : null,
    };
  }

  /** Oldest first, in pages (the export streams them). */
  async *scan(f: AuditFilter, pageSize = 2_000): AsyncGenerator<StoredEntry[]> {
    let after = 0n;
    for (;;) {
      const { where, params } = this.where(f);
      params.push(after.toString());
      where.push(`sequence > $${params.length}`);
      const rows: EntryRow[] = await this.ds.query(
        `SELECT ${ENTRY_COLUMNS} FROM audit_entries WHERE ${where.join(' AND ')}
          ORDER BY sequence LIMIT ${pageSize}`,
        params,
      );
      if (!rows.length) return;
      const page = rows.map(fromRow);
      yield page;
      if (rows.length < pageSize) return;
      after = page[page.length - 1].sequence;
    }
  }

  /**
   * Removes the entries older than the retention (AUDIT_RETENTION_DAYS, never
   * under 180), oldest first and never the newest, and appends in the same
   * transaction a tombstone naming the last purged entry's hash, so that the
   * chain still verifies from the first entry kept.
   */
  async purge(actor: Omit<AuditEntryInput, 'action' | 'outcome'>): Promise<PurgeResult> {
    const retentionDays = this.config.get('audit').retentionDays;
    try {
      const out = await this.ds.transaction(async (em) => {
        await em.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_WRITE_LOCK]);
        const [bound]: { through: string | null }[] = await em.query(
          `SELECT COALESCE(
                    (SELECT min(sequence) FROM audit_entries WHERE time >= now() - make_interval(days => $1)),
                    (SELECT max(sequence) FROM audit_entries)) - 1 AS through`,
          [retentionDays],
        );
        const through = bound.through === null ? 0n : BigInt(bound.through);
        const [res]: {
          purged: string;
          first_sequence: string | null;
          last_sequence: string | null;
          last_hash: Buffer | null;
        }[] =
          through > 0n
            ? await em.query(
                `SELECT purged::text, first_sequence::text, last_sequence::text, last_hash FROM audit_purge($1)`,
                [through.toString()],
              )
            : [{ purged: '0', first_sequence: null, last_sequence: null, last_hash: null }];
        if (res.purged === '0' || !res.last_sequence || !res.last_hash || !res.first_sequence) {
          await this.audit.append(em, {
            ...actor,
            action: 'audit.purge',
            outcome: 'success',
            reason: `nothing older than ${retentionDays} days`,
            details: { purged: '0', retentionDays },
          });
          return {
            purged: '0',
            firstPurgedSequence: null,
            lastPurgedSequence: null,
            tombstoneSequence: null,
          };
        }
        const details: TombstoneDetails & { retentionDays: number } = {
          purged: res.purged,
          firstPurgedSequence: res.first_sequence,
          lastPurgedSequence: res.last_sequence,
          lastPurgedHash: res.last_hash.toString('hex'),
          retentionDays,
        };
        const tomb = await this.audit.append(em, {
          ...actor,
          action: 'audit.purged',
          target: `audit:${res.first_sequence}-${res.last_sequence}`,
          outcome: 'success',
          details: { ...details },
        });
        return {
          purged: res.purged,
          firstPurgedSequence: res.first_sequence,
          lastPurgedSequence: res.last_sequence,
          tombstoneSequence: tomb.sequence.toString(),
        };
      });
      return { ...out, retentionDays };
    } catch (err) {
      throw new AuditUnavailableError(`the audit purge failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  private where(f: AuditFilter): { where: string[]; params: unknown[] } {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, v: unknown) => {
      params.push(v);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (f.actor !== undefined) add('actor = ?', f.actor);
    if (f.action !== undefined) {
      if (f.action.endsWith('.*'))
        add(`action LIKE ?`, `${f.action.slice(0, -1).replace(/[\\%_]/g, '\\$&')}%`);
      else add('action = ?', f.action);
    }
    if (f.target !== undefined) add('target = ?', f.target);
    if (f.outcome !== undefined) add('outcome = ?', f.outcome);
    if (f.from !== undefined) add('time >= ?', f.from.toISOString());
    if (f.to !== undefined) add('time < ?', f.to.toISOString());
    return { where, params };
  }
}

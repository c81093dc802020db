import { Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { ConfigurationService } from '../config/configuration.service';
import { appendEntry } from './audit-chain';
import { AuditEntryInput, InvalidAuditEntryError, StoredEntry } from './audit-entry';
import { AuditUnavailableError } from './audit.errors';

export type { AuditEntryInput, Outcome } from './audit-entry';

/** Told after each committed append (the checkpoint writer counts them). */
export type AppendListener = (entry: StoredEntry) => void;

/**
 * The audit trail's write side for every other module. Fail closed: when the
 * trail cannot be written these throw AuditUnavailableError (HTTP 503), and the
 * action being recorded must not happen.
 */
@Injectable()
export class AuditService {
  private readonly logger = new Logger('audit');
  private readonly listeners = new Set<AppendListener>();

  constructor(
    private readonly ds: DataSource,
    private readonly config: ConfigurationService,
  ) {}

  /** The standalone appends of this process, one after the other (see `record`). */
  private queue: Promise<unknown> = Promise.resolve();

  /**
   * Records one entry in its own transaction. This process's standalone appends take turns
   * before they ask the pool for a connection: they serialize on the trail's writer lock in the
   * database anyway, and a burst of them (10,000 agents disconnecting at once) otherwise held
   * every pool connection waiting for that lock, or timed out waiting for a connection and lost
   * the entries.
   */
  async record(entry: AuditEntryInput): Promise<void> {
    const turn = this.queue.then(() => this.ds.transaction((em) => this.append(em, entry)));
    this.queue = turn.catch(() => undefined);
    let stored: StoredEntry;
    try {
      stored = await turn;
    } catch (err) {
      throw this.unavailable(err, entry);
    }
    this.notify(stored);
  }

  /**
   * Records one entry inside the caller's transaction: it commits or rolls back
   * with the action. It holds the trail's writer lock until that transaction ends,
   * so call it last, just before the transaction commits.
   */
  async recordIn(manager: EntityManager, entry: AuditEntryInput): Promise<void> {
    if (!manager.queryRunner?.isTransactionActive) {
      throw new InvalidAuditEntryError(
        'AuditService.recordIn needs the EntityManager of an open transaction (DataSource.transaction)',
      );
    }
    let stored: StoredEntry;
    try {
      stored = await this.append(manager, entry);
    } catch (err) {
      throw this.unavailable(err, entry);
    }
    // Counted when the caller's transaction commits; a rollback just makes the count high.
    this.notify(stored);
  }

  /** The one write path (also used by the heartbeat and the purge tombstone). */
  append(em: EntityManager, entry: AuditEntryInput, nowMs?: number): Promise<StoredEntry> {
    return appendEntry(em, entry, this.config.get('audit').hashAlgorithm, nowMs);
  }

  onAppend(listener: AppendListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(entry: StoredEntry): void {
    for (const l of this.listeners) l(entry);
  }

  private unavailable(err: unknown, entry: AuditEntryInput): Error {
    if (err instanceof InvalidAuditEntryError || err instanceof AuditUnavailableError) return err;
    const message = err instanceof Error ? err.message : String(err);
    this.logger.error(`audit trail not writable (${entry.action} refused): ${message}`);
    return new AuditUnavailableError(
      `the audit trail cannot be written, so ${entry.action} was not done`,
      { cause: err },
    );
  }
}

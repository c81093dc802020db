import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { InvalidInputError } from '../common/domain-errors';
import type { Actor } from './anomalies.service';
import {
  DEFAULT_THRESHOLDS,
  resolveThresholds,
  validateThresholds,
  type Thresholds,
} from './thresholds';

const SCOPE = /^(fleet|label:[A-Za-z0-9_.\-/]{1,63}=[^,=]{0,256})$/;
const CACHE_MS = 2_000;

/** Thresholds by scope, cached briefly: every window of every host reads them. */
@Injectable()
export class ThresholdsService {
  private cache: { at: number; scopes: Map<string, Partial<Thresholds>> } | null = null;

  constructor(
    private readonly ds: DataSource,
    private readonly audit: AuditService,
  ) {}

  async scopes(): Promise<Map<string, Partial<Thresholds>>> {
    if (this.cache && Date.now() - this.cache.at < CACHE_MS) return this.cache.scopes;
    const rows = (await this.ds.query(`SELECT scope, thresholds FROM anomaly_thresholds`)) as {
      scope: string;
      thresholds: Partial<Thresholds>;
    }[];
    const scopes = new Map(rows.map((r) => [r.scope, r.thresholds]));
    this.cache = { at: Date.now(), scopes };
    return scopes;
  }

  async forHost(labels: Record<string, string>): Promise<Thresholds> {
    return resolveThresholds(await this.scopes(), labels);
  }

  async describe() {
    return { defaults: DEFAULT_THRESHOLDS, scopes: Object.fromEntries(await this.scopes()) };
  }

  async set(scope: string, body: unknown, actor: Actor) {
    if (!SCOPE.test(scope))
      throw new InvalidInputError('scope must be "fleet" or "label:key=value"');
    const thresholds = validateThresholds(body);
    await this.ds.transaction(async (em) => {
      await em.query(
        `INSERT INTO anomaly_thresholds (scope, thresholds, updated_by) VALUES ($1, $2, $3)
         ON CONFLICT (scope) DO UPDATE SET thresholds = anomaly_thresholds.thresholds || EXCLUDED.thresholds,
                updated_by = EXCLUDED.updated_by, updated_at = now()`,
        [scope, thresholds, actor.name],
      );
      await this.audit.recordIn(em, {
        actor: actor.name,
        actorRole: actor.role,
        source: actor.source,
        requestId: actor.requestId,
        action: 'anomaly.thresholds_changed',
        target: `thresholds:${scope}`,
        outcome: 'success',
        details: { thresholds },
      });
    });
    this.cache = null;
    return this.describe();
  }
}

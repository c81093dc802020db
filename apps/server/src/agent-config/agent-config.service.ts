import { Injectable } from '@nestjs/common';
import type { AgentConfig } from '@tidewatch/proto';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { AuditActor } from '../audit/request-actor';
import { DomainError, NotFoundError } from '../common/domain-errors';
import { ConfigurationService } from '../config/configuration.service';
import { AgentConfigStateView, AgentConfigView, ConfigAppliedView } from './dto/agent-config.view';
import type { UpdateAgentConfigDto } from './dto/update-agent-config.dto';
import { ApiMasking, toApiMasking, toWireMasking, WireMasking } from './masking';

/** The system administrator tried to change the masking policy (the security administrator's). */
export class MaskingOwnedError extends DomainError {
  override name = 'MaskingOwnedError';
  readonly kind = 'forbidden';
}

/** NOTIFY channel: payload = the agent id whose configuration changed. */
export const CONFIG_CHANNEL = 'tidewatch_config';

interface ConfigRow {
  version: string;
  window_seconds: number;
  top_n: number;
  port_allowlist: number[];
  masking: string;
  max_flows_per_window: number;
  cpu_budget_percent: number;
  updated_at: Date;
}

export interface ConfigAppliedReport {
  version: number;
  ok: boolean;
  error: string;
}

const MAX_ERROR_CHARS = 2_048;

/** The configuration each agent should run (versioned) and what it reported applying. */
@Injectable()
export class AgentConfigService {
  constructor(
    private readonly ds: DataSource,
    private readonly config: ConfigurationService,
    private readonly audit: AuditService,
  ) {}

  /** Version 1: what every agent runs until an operator changes its configuration. */
  defaults(): AgentConfigView {
    return {
      version: 1,
      source: 'default',
      windowSeconds: this.config.get('agentWindowSeconds'),
      topN: this.config.get('agentTopN'),
      portAllowlist: [],
      masking: 'unspecified',
      maxFlowsPerWindow: 0,
      cpuBudgetPercent: 0,
      updatedAt: null,
    };
  }

  async desired(agentId: string): Promise<AgentConfigView> {
    const rows: ConfigRow[] = await this.ds.query(
      `SELECT * FROM agent_configs WHERE agent_id = $1`,
      [agentId],
    );
    return rows.length ? view(rows[0]) : this.defaults();
  }

  async state(agentId: string): Promise<AgentConfigStateView> {
    const rows: {
      config_version: string;
      config_applied_version: string | null;
      config_applied_ok: boolean | null;
      config_applied_error: string | null;
      config_applied_at: Date | null;
    }[] = await this.ds.query(
      `SELECT config_version, config_applied_version, config_applied_ok, config_applied_error,
              config_applied_at
         FROM hosts WHERE agent_id = $1`,
      [agentId],
    );
    if (!rows.length) throw new NotFoundError(`no host with agentId ${agentId}`);
    const h = rows[0];
    const applied: ConfigAppliedView | null =
      h.config_applied_at === null
        ? null
        : {
            version: Number(h.config_applied_version),
            ok: h.config_applied_ok === true,
            error: h.config_applied_error ?? '',
            at: h.config_applied_at.toISOString(),
          };
    return {
      desired: await this.desired(agentId),
      applied,
      runningVersion: Number(h.config_version),
    };
  }

  /**
   * Replaces the agent's configuration with a new version and announces it
   * (in the same transaction) to every replica, so that whichever one holds
   * the agent's stream pushes a ConfigUpdate. The masking in it must be the
   * current one: the masking policy is the security administrator's
   * (`setMasking`); a different one is refused (403) and audited.
   */
  async update(
    agentId: string,
    dto: UpdateAgentConfigDto,
    actor: AuditActor,
  ): Promise<AgentConfigView> {
    return this.change(agentId, actor, async (em, before) => {
      if (dto.masking !== before.masking) {
        return new MaskingOwnedError(
          `masking is the security administrator's policy (PUT /api/v1/hosts/${agentId}/masking); ` +
            `send the current masking "${before.masking}" with the rest of the configuration`,
        );
      }
      const next = await this.write(em, agentId, dto);
      // Last, in the same transaction: no configuration change without its audit entry.
      await this.audit.recordIn(em, {
        ...actor,
        action: 'agent.config_changed',
        target: agentId,
        outcome: 'success',
        details: { version: next.version, config: { ...dto }, previous: settingsOf(before) },
      });
      return next;
    });
  }

  /**
   * The security administrator's masking policy for one agent: a new version
   * with only the masking changed (pushed like any change), audited with the
   * old and new mode. The same mode again changes nothing.
   */
  async setMasking(
    agentId: string,
    masking: ApiMasking,
    actor: AuditActor,
  ): Promise<AgentConfigView> {
    return this.change(agentId, actor, async (em, before) => {
      if (before.masking === masking) return before;
      const next = await this.write(em, agentId, { ...settingsOf(before), masking });
      await this.audit.recordIn(em, {
        ...actor,
        action: 'agent.masking_changed',
        target: agentId,
        outcome: 'success',
        details: { version: next.version, from: before.masking, to: next.masking },
      });
      return next;
    });
  }

  /** Locks the host, reads its configuration, runs `fn`; an Error it answers is refused and audited. */
  private async change(
    agentId: string,
    actor: AuditActor,
    fn: (em: EntityManager, before: AgentConfigView) => Promise<AgentConfigView | Error>,
  ): Promise<AgentConfigView> {
    const out = await this.ds.transaction(async (em) => {
      const host: unknown[] = await em.query(`SELECT 1 FROM hosts WHERE agent_id = $1 FOR UPDATE`, [
        agentId,
      ]);
      if (!host.length) throw new NotFoundError(`no host with agentId ${agentId}`);
      const prior: ConfigRow[] = await em.query(`SELECT * FROM agent_configs WHERE agent_id = $1`, [
        agentId,
      ]);
      return fn(em, prior.length ? view(prior[0]) : this.defaults());
    });
    if (out instanceof Error) {
      // After the (empty) transaction: the refusal is on the trail, or the request fails 503.
      await this.audit.record({
        ...actor,
        action: 'agent.masking_changed',
        target: agentId,
        outcome: 'denied',
        reason: "masking policy is the security administrator's",
      });
      throw out;
    }
    return out;
  }

  private async write(
    em: EntityManager,
    agentId: string,
    c: UpdateAgentConfigDto,
  ): Promise<AgentConfigView> {
    const rows: ConfigRow[] = await em.query(
      `INSERT INTO agent_configs AS c (agent_id, version, window_seconds, top_n, port_allowlist,
                                       masking, max_flows_per_window, cpu_budget_percent, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())
       ON CONFLICT (agent_id) DO UPDATE SET
         version = c.version + 1, window_seconds = EXCLUDED.window_seconds,
         top_n = EXCLUDED.top_n, port_allowlist = EXCLUDED.port_allowlist,
         masking = EXCLUDED.masking, max_flows_per_window = EXCLUDED.max_flows_per_window,
         cpu_budget_percent = EXCLUDED.cpu_budget_percent, updated_at = now()
       RETURNING *`,
      [
        agentId,
        this.defaults().version + 1,
        c.windowSeconds,
        c.topN,
        [...c.portAllowlist].sort((a, b) => a - b),
        toWireMasking(c.masking),
        c.maxFlowsPerWindow,
        c.cpuBudgetPercent,
      ],
    );
    await em.query('SELECT pg_notify($1, $2)', [CONFIG_CHANNEL, agentId]);
    return view(rows[0]);
  }

  /** Stores the agent's ConfigApplied; a successful one is also the version it now runs. */
  async recordApplied(agentId: string, report: ConfigAppliedReport): Promise<void> {
    const error = report.error.replace(/\u0000/g, '').slice(0, MAX_ERROR_CHARS);
    await this.ds.transaction(async (em) => {
      await em.query(
        `UPDATE hosts SET config_applied_version = $2, config_applied_ok = $3,
                config_applied_error = $4, config_applied_at = now(), last_seen_at = now(),
                config_version = CASE WHEN $3 THEN $2 ELSE config_version END
          WHERE agent_id = $1`,
        [agentId, report.version, report.ok, error],
      );
      await this.audit.recordIn(em, {
        actor: `agent:${agentId}`,
        source: null,
        action: 'agent.config_applied',
        target: agentId,
        outcome: report.ok ? 'success' : 'failure',
        reason: report.ok ? null : error,
        details: { version: report.version },
      });
    });
  }

  /** The desired configuration as the wire message (Welcome, ConfigUpdate). */
  async wireFor(agentId: string): Promise<AgentConfig> {
    return toWire(await this.desired(agentId));
  }
}

export function toWire(v: AgentConfigView): AgentConfig {
  return {
    version: v.version,
    windowSeconds: v.windowSeconds,
    topN: v.topN,
    portAllowlist: v.portAllowlist,
    masking: toWireMasking(v.masking) as WireMasking,
    maxFlowsPerWindow: v.maxFlowsPerWindow,
    cpuBudgetPercent: v.cpuBudgetPercent,
  };
}

/** The settings of a configuration (what a PUT gives), for the audit entry. */
function settingsOf(v: AgentConfigView): UpdateAgentConfigDto & { version: number } {
  return {
    version: v.version,
    windowSeconds: v.windowSeconds,
    topN: v.topN,
    portAllowlist: v.portAllowlist,
    masking: v.masking,
    maxFlowsPerWindow: v.maxFlowsPerWindow,
    cpuBudgetPercent: v.cpuBudgetPercent,
  };
}

function view(r: ConfigRow): AgentConfigView {
  return {
    version: Number(r.version),
    source: 'operator',
    windowSeconds: r.window_seconds,
    topN: r.top_n,
    portAllowlist: r.port_allowlist,
    masking: toApiMasking(r.masking),
    maxFlowsPerWindow: r.max_flows_per_window,
    cpuBudgetPercent: r.cpu_budget_percent,
    updatedAt: r.updated_at.toISOString(),
  };
}

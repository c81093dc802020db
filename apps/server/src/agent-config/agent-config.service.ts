import { Injectable } from '@nestjs/common';
import type { AgentConfig } from '@tidewatch/proto';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { AuditActor } from '../audit/request-actor';
import { DomainError, NotFoundError } from '../common/domain-errors';
import { ConfigurationService } from '../config/configuration.service';
import { HostsRepository } from '../hosts/hosts.repository';
import {
  AgentConfigStateView,
  AgentConfigView,
  ConfigAppliedView,
  ConfigOriginView,
} from './dto/agent-config.view';
import type { LayerView } from './dto/layer.view';
import type { UpdateAgentConfigDto } from './dto/update-agent-config.dto';
import {
  DesiredRow,
  LAYER_COLUMNS,
  layerColumnValues,
  layerOf,
  LayerRow,
  loadLayers,
  recompute,
  settingsOfRow,
} from './desired-configs';
import {
  applicable,
  Layer,
  LayerSettings,
  merge,
  sameSettings,
  SETTING_FIELDS,
  Settings,
} from './layers';
import { ApiMasking, toWireMasking, WireMasking } from './masking';

/** The system administrator tried to change the masking policy (the security administrator's). */
export class MaskingOwnedError extends DomainError {
  override name = 'MaskingOwnedError';
  readonly kind = 'forbidden';
}

export { CONFIG_CHANNEL } from './desired-configs';

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
    private readonly hosts: HostsRepository,
    private readonly config: ConfigurationService,
    private readonly audit: AuditService,
  ) {}

  /** The server defaults: what every agent runs (version 1) until a layer changes something. */
  defaultSettings(): Settings {
    return {
      windowSeconds: this.config.get('agentWindowSeconds'),
      topN: this.config.get('agentTopN'),
      portAllowlist: [],
      masking: 'unspecified',
      maxFlowsPerWindow: 0,
      cpuBudgetPercent: 0,
    };
  }

  /** Version 1: what every agent runs until an operator changes its configuration. */
  defaults(): AgentConfigView {
    return {
      version: 1,
      source: 'default',
      ...this.defaultSettings(),
      updatedAt: null,
      origin: allFrom('default'),
    };
  }

  /**
   * What the server sends the agent now (agent_configs), with the layer of every field. Joins
   * hosts for the labels, in one statement with the row it reads (one snapshot): the query is
   * agent_configs', hosts only answers which agent ids exist and their labels.
   */
  async desired(agentId: string, em: EntityManager = this.ds.manager): Promise<AgentConfigView> {
    const rows: (Partial<DesiredRow> & { labels: Record<string, string> | null })[] =
      await em.query(
        `SELECT h.labels, c.* FROM hosts h LEFT JOIN agent_configs c USING (agent_id)
          WHERE h.agent_id = $1`,
        [agentId],
      );
    if (!rows.length) return this.defaults();
    const layers = await loadLayers(em);
    const { origin } = merge(
      this.defaultSettings(),
      applicable(layers, agentId, rows[0].labels ?? {}),
    );
    return rows[0].version == null ? this.defaults() : view(rows[0] as DesiredRow, origin);
  }

  async state(agentId: string): Promise<AgentConfigStateView> {
    const h = await this.hosts.configState(agentId);
    if (!h) throw new NotFoundError(`no host with agentId ${agentId}`);
    const applied: ConfigAppliedView | null =
      h.config_applied_at === null
        ? null
        : {
            version: Number(h.config_applied_version),
            ok: h.config_applied_ok === true,
            error: h.config_applied_error ?? '',
            at: h.config_applied_at.toISOString(),
          };
    const own = await this.hostLayer(this.ds.manager, agentId);
    return {
      desired: await this.desired(agentId),
      applied,
      runningVersion: Number(h.config_version),
      override: own ? layerView(own, 1) : null,
    };
  }

  /**
   * Sets the host's own override (every field but the masking) and announces the new merged
   * configuration (in the same transaction) to every replica, so that whichever one holds the
   * agent's stream pushes a ConfigUpdate. The masking in it must be the current one: the
   * masking policy is the security administrator's (`setMasking`); a different one is refused
   * (403) and audited.
   */
  async update(
    agentId: string,
    dto: UpdateAgentConfigDto,
    actor: AuditActor,
  ): Promise<AgentConfigView> {
    return this.change(agentId, actor, async (em, before, own) => {
      if (dto.masking !== before.masking) {
        return new MaskingOwnedError(
          `masking is the security administrator's policy (PUT /api/v1/hosts/${agentId}/masking); ` +
            `send the current masking "${before.masking}" with the rest of the configuration`,
        );
      }
      const next = await this.writeHostLayer(em, agentId, {
        ...dto,
        masking: own?.settings.masking ?? null,
      });
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
   * The security administrator's masking policy for one agent, in its own override: a new
   * version where the merged masking changes (pushed like any change), audited with the old
   * and new mode. The same mode again changes nothing.
   */
  async setMasking(
    agentId: string,
    masking: ApiMasking,
    actor: AuditActor,
  ): Promise<AgentConfigView> {
    return this.change(agentId, actor, async (em, before, own) => {
      if (own?.settings.masking === masking) return before;
      const next = await this.writeHostLayer(em, agentId, {
        ...(own?.settings ?? NOTHING),
        masking,
      });
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

  /**
   * Removes the host's own settings (the masking, the security administrator's, stays): the
   * host gets what its layers give again. Audited with what it removed; no override, no change.
   */
  async clearOverride(agentId: string, actor: AuditActor): Promise<AgentConfigView> {
    return this.change(agentId, actor, async (em, before, own) => {
      if (!own || SETTING_FIELDS.every((f) => f === 'masking' || own.settings[f] === null)) {
        return before;
      }
      if (own.settings.masking === null) {
        await em.query(`DELETE FROM agent_config_layers WHERE scope = 'host' AND agent_id = $1`, [
          agentId,
        ]);
        await this.recomputeHost(em, agentId);
      }
      const next =
        own.settings.masking === null
          ? await this.desired(agentId, em)
          : await this.writeHostLayer(em, agentId, { ...NOTHING, masking: own.settings.masking });
      await this.audit.recordIn(em, {
        ...actor,
        action: 'agent.config_changed',
        target: agentId,
        outcome: 'success',
        details: { version: next.version, config: null, previous: settingsOf(before) },
      });
      return next;
    });
  }

  /** Locks the host, reads its configuration, runs `fn`; an Error it answers is refused and audited. */
  private async change(
    agentId: string,
    actor: AuditActor,
    fn: (
      em: EntityManager,
      before: AgentConfigView,
      own: Layer | null,
    ) => Promise<AgentConfigView | Error>,
  ): Promise<AgentConfigView> {
    const out = await this.ds.transaction(async (em) => {
      const host = await this.hosts.lock(em, { kind: 'agents', agentIds: [agentId] });
      if (!host.length) throw new NotFoundError(`no host with agentId ${agentId}`);
      return fn(em, await this.desired(agentId, em), await this.hostLayer(em, agentId));
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

  private async hostLayer(em: EntityManager, agentId: string): Promise<Layer | null> {
    const rows: LayerRow[] = await em.query(
      `SELECT * FROM agent_config_layers WHERE scope = 'host' AND agent_id = $1`,
      [agentId],
    );
    return rows.length ? layerOf(rows[0]) : null;
  }

  /** Writes the host's override layer, merges again; answers the desired configuration. */
  private async writeHostLayer(
    em: EntityManager,
    agentId: string,
    s: LayerSettings,
  ): Promise<AgentConfigView> {
    await em.query(
      `INSERT INTO agent_config_layers AS l (scope, agent_id, ${LAYER_COLUMNS})
       VALUES ('host', $1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (agent_id) WHERE scope = 'host' DO UPDATE SET
         version = l.version + 1, window_seconds = EXCLUDED.window_seconds,
         top_n = EXCLUDED.top_n, port_allowlist = EXCLUDED.port_allowlist,
         masking = EXCLUDED.masking, max_flows_per_window = EXCLUDED.max_flows_per_window,
         cpu_budget_percent = EXCLUDED.cpu_budget_percent, updated_at = now()`,
      [agentId, ...layerColumnValues(s)],
    );
    await this.recomputeHost(em, agentId);
    return this.desired(agentId, em);
  }

  /** Merges the layers again for one host (see recompute), in the caller's transaction. */
  private recomputeHost(em: EntityManager, agentId: string): Promise<string[]> {
    return recompute(em, this.hosts, this.defaultSettings(), {
      kind: 'agents',
      agentIds: [agentId],
    });
  }

  /** Stores the agent's ConfigApplied; a successful one is also the version it now runs. */
  async recordApplied(agentId: string, report: ConfigAppliedReport): Promise<void> {
    const error = report.error.replace(/\u0000/g, '').slice(0, MAX_ERROR_CHARS);
    await this.ds.transaction(async (em) => {
      await this.hosts.recordConfigApplied(em, agentId, { ...report, error });
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

  /**
   * The desired configuration as the wire message (Welcome, ConfigUpdate). Merged again first:
   * a Hello may have brought other labels (other label layers), or the server other defaults;
   * then the agent gets the next version, as if a layer had changed.
   */
  async wireFor(agentId: string): Promise<AgentConfig> {
    const stored = await this.desired(agentId);
    const labels = await this.hosts.labels(agentId);
    if (!labels) return toWire(stored);
    const { settings } = merge(
      this.defaultSettings(),
      applicable(await loadLayers(this.ds.manager), agentId, labels),
    );
    if (sameSettings(settings, stored)) return toWire(stored);
    const fresh = await this.ds.transaction(async (em) => {
      await this.recomputeHost(em, agentId);
      return this.desired(agentId, em);
    });
    return toWire(fresh);
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

const NOTHING: LayerSettings = {
  windowSeconds: null,
  topN: null,
  portAllowlist: null,
  masking: null,
  maxFlowsPerWindow: null,
  cpuBudgetPercent: null,
};

function allFrom(o: string): ConfigOriginView {
  return Object.fromEntries(SETTING_FIELDS.map((f) => [f, o])) as unknown as ConfigOriginView;
}

function view(r: DesiredRow, origin: Record<keyof Settings, string>): AgentConfigView {
  return {
    version: Number(r.version),
    source: Object.values(origin).some((o) => o !== 'default') ? 'operator' : 'default',
    ...settingsOfRow(r),
    updatedAt: r.updated_at.toISOString(),
    origin,
  };
}

/** A layer as the API shows it; `hosts` = how many hosts it applies to. */
export function layerView(l: Layer, hosts: number): LayerView {
  return {
    scope: l.scope,
    key: l.labelKey,
    value: l.labelValue,
    priority: l.priority,
    version: l.version,
    ...l.settings,
    updatedAt: l.updatedAt.toISOString(),
    hosts,
  };
}

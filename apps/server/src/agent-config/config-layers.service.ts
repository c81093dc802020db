import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { AuditActor } from '../audit/request-actor';
import { DomainError, NotFoundError } from '../common/domain-errors';
import { HostFilter, HostsRepository } from '../hosts/hosts.repository';
import { AgentConfigService, layerView, MaskingOwnedError } from './agent-config.service';
import {
  LAYER_COLUMNS,
  LAYER_LOCK_SQL,
  layerColumnValues,
  layerOf,
  LayerRow,
  recompute,
} from './desired-configs';
import type { DriftItemView, DriftPageView } from './dto/drift.view';
import type { DriftQuery, LabelLayerDto, LayerSettingsDto } from './dto/layer-settings.dto';
import type {
  FleetConfigView,
  LabelLayerListView,
  LayerChangeView,
  LayerView,
} from './dto/layer.view';
import type { Layer, LayerSettings } from './layers';
import type { ApiMasking } from './masking';

/** Two label layers on different keys with one priority: both could match one host. */
export class LayerPriorityTakenError extends DomainError {
  override name = 'LayerPriorityTakenError';
  readonly kind = 'conflict';
}

/** The system administrator tried to delete a layer that sets the masking policy. */
export class LayerMaskingSetError extends DomainError {
  override name = 'LayerMaskingSetError';
  readonly kind = 'forbidden';
}

type LayerRef = { scope: 'fleet' } | { scope: 'label'; key: string; value: string };

const refName = (r: LayerRef) => (r.scope === 'fleet' ? 'fleet' : `label:${r.key}=${r.value}`);
const refPath = (r: LayerRef) =>
  r.scope === 'fleet'
    ? 'fleet'
    : `labels/${encodeURIComponent(r.key)}/${encodeURIComponent(r.value)}`;

/** The fleet-wide and per-label configuration layers, and the drift of every host. */
@Injectable()
export class ConfigLayersService {
  constructor(
    private readonly ds: DataSource,
    private readonly hosts: HostsRepository,
    private readonly configs: AgentConfigService,
    private readonly audit: AuditService,
  ) {}

  async fleet(): Promise<FleetConfigView> {
    const layer = await this.find(this.ds.manager, { scope: 'fleet' });
    const n = await this.hosts.count({ kind: 'all' });
    return {
      layer: layer ? layerView(layer, n) : emptyView('fleet', n),
      defaults: this.configs.defaultSettings(),
    };
  }

  /** The label layers, each with how many hosts carry its label (counted in the same statement). */
  async labels(): Promise<LabelLayerListView> {
    const rows: (LayerRow & { hosts: string })[] = await this.ds.query(
      `SELECT l.*, (SELECT count(*) FROM hosts h
                     WHERE h.labels @> jsonb_build_object(l.label_key, l.label_value)) AS hosts
         FROM agent_config_layers l WHERE scope = 'label'
        ORDER BY priority DESC, label_key, label_value`,
    );
    return { items: rows.map((r) => layerView(layerOf(r), Number(r.hosts))) };
  }

  /** Replaces the fleet layer's fields (masking excepted: it must stay what it is). */
  putFleet(dto: LayerSettingsDto, actor: AuditActor): Promise<LayerChangeView> {
    return this.putLayer({ scope: 'fleet' }, dto, 0, actor);
  }

  /** Creates or replaces one label layer (masking excepted); its priority must be free. */
  putLabel(
    key: string,
    value: string,
    dto: LabelLayerDto,
    actor: AuditActor,
  ): Promise<LayerChangeView> {
    return this.putLayer({ scope: 'label', key, value }, dto, dto.priority, actor);
  }

  private putLayer(
    ref: LayerRef,
    dto: LayerSettingsDto,
    priority: number,
    actor: AuditActor,
  ): Promise<LayerChangeView> {
    return this.changeLayer(ref, actor, async (em, before) => {
      const masking = before?.settings.masking ?? null;
      if (dto.masking !== undefined && (dto.masking ?? null) !== masking) {
        return new MaskingOwnedError(
          `masking is the security administrator's policy (PUT /api/v1/agent-config/` +
            `${refPath(ref)}/masking); omit it or send the current masking ` +
            `${masking === null ? 'null' : `"${masking}"`}`,
        );
      }
      if (ref.scope === 'label') {
        const taken: { label_key: string; label_value: string }[] = await em.query(
          `SELECT label_key, label_value FROM agent_config_layers
            WHERE scope = 'label' AND priority = $1 AND label_key <> $2 LIMIT 1`,
          [priority, ref.key],
        );
        if (taken.length) {
          throw new LayerPriorityTakenError(
            `priority ${priority} is taken by the layer ${taken[0].label_key}=${taken[0].label_value}: ` +
              'layers on different label keys need different priorities (the higher wins)',
          );
        }
      }
      const settings: LayerSettings = {
        windowSeconds: dto.windowSeconds ?? null,
        topN: dto.topN ?? null,
        portAllowlist: dto.portAllowlist ?? null,
        masking,
        maxFlowsPerWindow: dto.maxFlowsPerWindow ?? null,
        cpuBudgetPercent: dto.cpuBudgetPercent ?? null,
      };
      const { layer, changed } = await this.write(em, ref, before, settings, priority);
      await this.audit.recordIn(em, {
        ...actor,
        action: 'agent_config.layer_changed',
        target: refName(ref),
        outcome: 'success',
        details: {
          version: layer.version,
          config: { ...settings, priority },
          previous: before ? { ...before.settings, priority: before.priority } : null,
          changedHosts: changed.length,
        },
      });
      return { ...layerView(layer, await this.hostCount(em, ref)), changedHosts: changed.length };
    });
  }

  /** The security administrator's masking of a layer (null: inherited); a label layer must exist. */
  setMasking(
    ref: LayerRef,
    masking: ApiMasking | null,
    actor: AuditActor,
  ): Promise<LayerChangeView> {
    return this.changeLayer(ref, actor, async (em, before) => {
      if (ref.scope === 'label' && !before) {
        throw new NotFoundError(
          `no configuration layer for ${ref.key}=${ref.value}: the system administrator creates it first`,
        );
      }
      const from = before?.settings.masking ?? null;
      if (before && from === masking) {
        return { ...layerView(before, await this.hostCount(em, ref)), changedHosts: 0 };
      }
      const settings = { ...(before?.settings ?? emptySettings()), masking };
      const { layer, changed } = await this.write(em, ref, before, settings, before?.priority ?? 0);
      await this.audit.recordIn(em, {
        ...actor,
        action: 'agent_config.layer_masking_changed',
        target: refName(ref),
        outcome: 'success',
        details: { version: layer.version, from, to: masking, changedHosts: changed.length },
      });
      return { ...layerView(layer, await this.hostCount(em, ref)), changedHosts: changed.length };
    });
  }

  /**
   * Deletes a label layer: its hosts get what remains. One that sets the masking is refused to
   * the system administrator (the security administrator clears it first).
   */
  deleteLabel(key: string, value: string, actor: AuditActor): Promise<LayerChangeView> {
    const ref: LayerRef = { scope: 'label', key, value };
    return this.changeLayer(ref, actor, async (em, before) => {
      if (!before) throw new NotFoundError(`no configuration layer for ${key}=${value}`);
      if (before.settings.masking !== null) {
        return new LayerMaskingSetError(
          `the layer ${key}=${value} sets the masking policy "${before.settings.masking}": the ` +
            'security administrator clears it first (PUT .../masking with null)',
        );
      }
      await em.query(
        `DELETE FROM agent_config_layers
          WHERE scope = 'label' AND label_key = $1 AND label_value = $2`,
        [key, value],
      );
      const changed = await recompute(
        em,
        this.hosts,
        this.configs.defaultSettings(),
        filterOf(ref),
      );
      await this.audit.recordIn(em, {
        ...actor,
        action: 'agent_config.layer_deleted',
        target: refName(ref),
        outcome: 'success',
        details: {
          previous: { ...before.settings, priority: before.priority },
          changedHosts: changed.length,
        },
      });
      return { ...layerView(before, await this.hostCount(em, ref)), changedHosts: changed.length };
    });
  }

  /**
   * Per host: the version it should run, the one it runs, its last ConfigApplied. A join of
   * hosts (read only) and agent_configs kept here, not in HostsRepository: paging and counting
   * need both tables in one statement, and what it compares (a host without an agent_configs
   * row should run version 1) is this module's rule.
   */
  async drift(q: DriftQuery): Promise<DriftPageView> {
    const only = q.outOfSync === 'true';
    const rows: {
      agent_id: string;
      hostname: string;
      labels: Record<string, string> | null;
      desired: string;
      running: string;
      config_applied_version: string | null;
      config_applied_ok: boolean | null;
      config_applied_error: string | null;
      config_applied_at: Date | null;
      total: string;
      out_of_sync: string;
    }[] = await this.ds.query(
      `WITH d AS (
         SELECT h.agent_id, h.hostname, h.labels, COALESCE(c.version, 1) AS desired,
                h.config_version AS running, h.config_applied_version, h.config_applied_ok,
                h.config_applied_error, h.config_applied_at
           FROM hosts h LEFT JOIN agent_configs c USING (agent_id)
          WHERE h.revoked_at IS NULL)
       SELECT *, count(*) OVER () AS total,
              (SELECT count(*) FROM d WHERE desired <> running) AS out_of_sync
         FROM d WHERE NOT $1 OR desired <> running
        ORDER BY hostname, agent_id LIMIT $2 OFFSET $3`,
      [only, q.limit, q.offset],
    );
    let total = rows.length ? Number(rows[0].total) : 0;
    let outOfSync = rows.length ? Number(rows[0].out_of_sync) : 0;
    if (!rows.length) {
      const [c]: { total: string; out_of_sync: string }[] = await this.ds.query(
        `SELECT count(*) FILTER (WHERE NOT $1 OR COALESCE(c.version, 1) <> h.config_version) AS total,
                count(*) FILTER (WHERE COALESCE(c.version, 1) <> h.config_version) AS out_of_sync
           FROM hosts h LEFT JOIN agent_configs c USING (agent_id) WHERE h.revoked_at IS NULL`,
        [only],
      );
      total = Number(c.total);
      outOfSync = Number(c.out_of_sync);
    }
    const items: DriftItemView[] = rows.map((r) => ({
      agentId: r.agent_id,
      hostname: r.hostname,
      labels: r.labels ?? {},
      desiredVersion: Number(r.desired),
      runningVersion: Number(r.running),
      lastApplied:
        r.config_applied_at === null
          ? null
          : {
              version: Number(r.config_applied_version),
              ok: r.config_applied_ok === true,
              error: r.config_applied_error ?? '',
              at: r.config_applied_at.toISOString(),
            },
      inSync: r.desired === r.running,
    }));
    return { items, total, outOfSync, limit: q.limit, offset: q.offset };
  }

  /** Serialises layer writers, reads the layer, runs `fn`; an Error it answers is audited denied. */
  private async changeLayer(
    ref: LayerRef,
    actor: AuditActor,
    fn: (em: EntityManager, before: Layer | null) => Promise<LayerChangeView | Error>,
  ): Promise<LayerChangeView> {
    const out = await this.ds.transaction(async (em) => {
      await em.query(LAYER_LOCK_SQL);
      return fn(em, await this.find(em, ref));
    });
    if (out instanceof Error) {
      await this.audit.record({
        ...actor,
        action:
          out instanceof LayerMaskingSetError
            ? 'agent_config.layer_deleted'
            : 'agent_config.layer_masking_changed',
        target: refName(ref),
        outcome: 'denied',
        reason: "masking policy is the security administrator's",
      });
      throw out;
    }
    return out;
  }

  private async find(em: EntityManager, ref: LayerRef): Promise<Layer | null> {
    const rows: LayerRow[] =
      ref.scope === 'fleet'
        ? await em.query(`SELECT * FROM agent_config_layers WHERE scope = 'fleet'`)
        : await em.query(
            `SELECT * FROM agent_config_layers
              WHERE scope = 'label' AND label_key = $1 AND label_value = $2`,
            [ref.key, ref.value],
          );
    return rows.length ? layerOf(rows[0]) : null;
  }

  private async write(
    em: EntityManager,
    ref: LayerRef,
    before: Layer | null,
    s: LayerSettings,
    priority: number,
  ): Promise<{ layer: Layer; changed: string[] }> {
    const cols = layerColumnValues(s);
    const rows: LayerRow[] = before
      ? await em.query(
          `UPDATE agent_config_layers SET version = version + 1, priority = $2,
                  window_seconds = $3, top_n = $4, port_allowlist = $5, masking = $6,
                  max_flows_per_window = $7, cpu_budget_percent = $8, updated_at = now()
            WHERE scope = $1 AND label_key IS NOT DISTINCT FROM $9
              AND label_value IS NOT DISTINCT FROM $10
           RETURNING *`,
          [
            ref.scope,
            priority,
            ...cols,
            ref.scope === 'label' ? ref.key : null,
            ref.scope === 'label' ? ref.value : null,
          ],
        )
      : await em.query(
          `INSERT INTO agent_config_layers (scope, label_key, label_value, priority, ${LAYER_COLUMNS})
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *`,
          [
            ref.scope,
            ref.scope === 'label' ? ref.key : null,
            ref.scope === 'label' ? ref.value : null,
            priority,
            ...cols,
          ],
        );
    // TypeORM answers an UPDATE ... RETURNING as [rows, count].
    const row = (Array.isArray(rows[0]) ? rows[0][0] : rows[0]) as LayerRow;
    const changed = await recompute(em, this.hosts, this.configs.defaultSettings(), filterOf(ref));
    return { layer: layerOf(row), changed };
  }

  private hostCount(em: EntityManager, ref: LayerRef): Promise<number> {
    return this.hosts.count(filterOf(ref), em);
  }
}

function filterOf(ref: LayerRef): HostFilter {
  return ref.scope === 'fleet' ? { kind: 'all' } : { kind: 'label', ...ref };
}

function emptySettings(): LayerSettings {
  return {
    windowSeconds: null,
    topN: null,
    portAllowlist: null,
    masking: null,
    maxFlowsPerWindow: null,
    cpuBudgetPercent: null,
  };
}

function emptyView(scope: 'fleet', hosts: number): LayerView {
  return {
    scope,
    key: null,
    value: null,
    priority: 0,
    version: 0,
    ...emptySettings(),
    updatedAt: null,
    hosts,
  };
}

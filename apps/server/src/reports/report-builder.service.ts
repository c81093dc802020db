import { Injectable } from '@nestjs/common';
import { AnomaliesService } from '../anomalies/anomalies.service';
import type { ListAnomaliesQuery } from '../anomalies/dto/anomalies.query';
import { AuditCheckpointService } from '../audit/audit-checkpoint.service';
import { AuditQueryService } from '../audit/audit-query.service';
import { HostsService } from '../hosts/hosts.service';
import { API_PROTOCOLS, apiName } from '../storage/codes';
import type { TrafficScopeQuery } from '../traffic/dto/traffic.query';
import { DAY_MS } from '../traffic/time-range';
import { TrafficService } from '../traffic/traffic.service';
import {
  DEFAULT_HIGH_RISK_PORTS,
  HostCoverage,
  ReportDocument,
  ReportLang,
} from './report-document';

export interface ReportRequest {
  from: Date;
  to: Date;
  agentId?: string;
  labels?: string;
  lang: ReportLang;
  /** Top ports and talkers listed (default 10). */
  top?: number;
  highRiskPorts?: number[];
}

/** Rows listed in the document (the counts above them are always complete). */
const MAX_ANOMALY_ITEMS = 100;
const MAX_AUDIT_ITEMS = 200;
const ANOMALY_PAGE = 500;
const MAX_ANOMALY_OFFSET = 100_000;

const pct = (part: bigint, whole: bigint) =>
  whole === 0n ? 0 : Number((part * 1_000_000n) / whole) / 10_000;
const secondsBetween = (a: string, b: string | null) =>
  b === null ? null : Math.max(0, (Date.parse(b) - Date.parse(a)) / 1000);
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const max = (xs: number[]) => (xs.length ? Math.max(...xs) : null);
const bump = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);

/**
 * Assembles one report from the services that own the data (traffic, hosts,
 * anomalies, audit): no SQL of its own.
 */
@Injectable()
export class ReportBuilderService {
  constructor(
    private readonly traffic: TrafficService,
    private readonly hosts: HostsService,
    private readonly anomalies: AnomaliesService,
    private readonly auditQueries: AuditQueryService,
    private readonly checkpoints: AuditCheckpointService,
  ) {}

  async build(r: ReportRequest): Promise<ReportDocument> {
    const q: TrafficScopeQuery = {
      agentId: r.agentId,
      selector: r.labels,
      from: r.from.toISOString(),
      to: r.to.toISOString(),
      resolution: 'auto',
    };
    const top = r.top ?? 10;
    const scope = await this.traffic.resolveScope(q);
    const span = r.to.getTime() - r.from.getTime();
    const [summary, rates, series, ports, talkers, conns, coverage] = await Promise.all([
      this.traffic.summary(q),
      this.traffic.rates({ ...q, iface: '' }),
      this.traffic.series({
        ...q,
        resolution: span <= 2 * DAY_MS ? '1m' : '1h',
        groupBy: 'direction',
      }),
      this.traffic.topPorts({ ...q, limit: top, sort: 'bytes' }),
      this.traffic.topTalkers({ ...q, limit: top, sort: 'bytes' }),
      this.traffic.connections(q),
      this.traffic.coverage(q),
    ]);
    const [hosts, gaps, listening, anomalies, audit, chain] = await Promise.all([
      this.hosts.inScope(scope.agentIds),
      this.hosts.sequenceGaps(scope.agentIds, r.from, r.to),
      this.anomalies.listeningPorts(
        scope.agentIds,
        r.highRiskPorts ?? DEFAULT_HIGH_RISK_PORTS,
        r.from,
        r.to,
      ),
      this.anomalySection(r),
      this.auditSection(r.from, r.to),
      this.checkpoints.verify('incremental'),
    ]);

    const total = BigInt(summary.total.bytes);
    const byProtocol = new Map<string, { packets: bigint; bytes: bigint }>();
    const byDirection = new Map<string, { packets: bigint; bytes: bigint }>();
    for (const i of summary.items) {
      for (const [m, k] of [
        [byProtocol, i.protocol],
        [byDirection, i.direction],
      ] as const) {
        const e = m.get(k) ?? { packets: 0n, bytes: 0n };
        e.packets += BigInt(i.packets);
        e.bytes += BigInt(i.bytes);
        m.set(k, e);
      }
    }
    const shares = (m: Map<string, { packets: bigint; bytes: bigint }>) =>
      [...m]
        .sort((a, b) => (b[1].bytes > a[1].bytes ? 1 : b[1].bytes < a[1].bytes ? -1 : 0))
        .map(([k, v]) => ({
          key: k,
          packets: v.packets.toString(),
          bytes: v.bytes.toString(),
          sharePercent: pct(v.bytes, total),
        }));

    // Coverage: what each host's windows cover of the part of the period it was enrolled for.
    const covered = new Map(coverage.items.map((c) => [c.agentId, c]));
    const now = Date.now();
    let expectedAll = 0;
    let coveredAll = 0;
    const lostByHost = new Map<string, bigint>();
    for (const g of gaps) {
      const n = BigInt(g.lastSequence) - BigInt(g.firstSequence) + 1n;
      lostByHost.set(g.agentId, (lostByHost.get(g.agentId) ?? 0n) + n);
    }
    const hostRows: HostCoverage[] = [];
    const maskingModes: Record<string, number> = {};
    const hostname = new Map(hosts.map((h) => [h.agentId, h.hostname]));
    for (const h of hosts) {
      const start = Math.max(r.from.getTime(), h.enrolledAt.getTime());
      const end = Math.min(r.to.getTime(), now, h.revokedAt?.getTime() ?? Infinity);
      if (end <= start && !covered.has(h.agentId)) continue;
      const expected = Math.max(0, end - start);
      const c = covered.get(h.agentId);
      const ms = Math.min(Number(c?.milliseconds ?? 0), expected);
      expectedAll += expected;
      coveredAll += ms;
      bump(maskingModes, h.masking.replace(/^MASKING_/, '').toLowerCase());
      hostRows.push({
        agentId: h.agentId,
        hostname: h.hostname,
        windows: c?.windows ?? '0',
        coveragePercent: expected ? Math.round((ms / expected) * 10_000) / 100 : 100,
        missingMs: expected - ms,
        lostBatches: (lostByHost.get(h.agentId) ?? 0n).toString(),
        masking: h.masking.replace(/^MASKING_/, '').toLowerCase(),
      });
    }
    const lost = [...lostByHost.values()].reduce((a, b) => a + b, 0n);

    return {
      kind: 'tidewatch.compliance-report',
      version: 1,
      lang: r.lang,
      generatedAt: new Date().toISOString(),
      from: r.from.toISOString(),
      to: r.to.toISOString(),
      scope: {
        ...(r.agentId ? { agentId: r.agentId } : {}),
        ...(r.labels ? { labels: r.labels } : {}),
        hosts: hosts.length,
      },
      coverage: {
        hostsInScope: hostRows.length,
        hostsReporting: hostRows.filter((h) => h.windows !== '0').length,
        hostsSilent: hostRows.filter((h) => h.windows === '0').map((h) => h.hostname),
        coveragePercent: expectedAll ? Math.round((coveredAll / expectedAll) * 10_000) / 100 : 100,
        lostBatches: lost.toString(),
        gaps: gaps.map((g) => ({
          agentId: g.agentId,
          hostname: hostname.get(g.agentId) ?? g.agentId,
          firstSequence: g.firstSequence,
          lastSequence: g.lastSequence,
          recordedAt: g.recordedAt.toISOString(),
        })),
        hosts: hostRows,
        maskingModes,
      },
      protocols: shares(byProtocol).map(({ key, ...v }) => ({ protocol: key, ...v })),
      directions: shares(byDirection).map(({ key, ...v }) => ({ direction: key, ...v })),
      total: summary.total,
      rates: rates.items.map((i) => ({
        direction: i.direction,
        avgBitsPerSecond: i.avgBitsPerSecond,
        peakBitsPerSecond: i.peakBitsPerSecond,
        avgPacketsPerSecond: i.avgPacketsPerSecond,
        peakPacketsPerSecond: i.peakPacketsPerSecond,
      })),
      series: {
        stepSeconds: series.stepSeconds,
        points: series.points.map((p) => ({ t: p.t, key: p.key, bytes: p.bytes })),
      },
      topPorts: ports.items,
      topTalkers: talkers.items,
      connections: {
        windows: conns.windows,
        openedClient: conns.openedClient,
        openedServer: conns.openedServer,
        failed: conns.failed,
        closed: conns.closed,
        retransmits: conns.retransmits,
        peakOpenedPerSecond: conns.peakOpenedPerSecond,
        activeMax: conns.activeMax,
        meanDurationMs: conns.meanDurationMs,
      },
      highRiskPorts: {
        ports: r.highRiskPorts ?? DEFAULT_HIGH_RISK_PORTS,
        exposed: listening.map((l) => ({
          agentId: l.agentId,
          hostname: l.hostname ?? l.agentId,
          protocol: apiName(API_PROTOCOLS, l.protocol),
          port: l.port,
          loopbackOnly: l.loopbackOnly,
          firstSeen: l.firstSeen.toISOString(),
        })),
      },
      anomalies,
      audit: {
        ...audit,
        chain: {
          ok: chain.ok,
          checked: chain.checked,
          mode: chain.mode,
          brokenAt: chain.brokenAt ?? null,
          reason: chain.reason ?? null,
          head: chain.head,
          checkpointsEnabled: chain.checkpointsEnabled,
          lastCheckpoint: chain.lastCheckpoint,
        },
      },
    };
  }

  /** Every anomaly that overlapped the period, through the anomalies service's own listing. */
  private async anomalySection(r: ReportRequest): Promise<ReportDocument['anomalies']> {
    const out: ReportDocument['anomalies'] = {
      total: 0,
      byType: {},
      bySeverity: {},
      byStatus: {},
      acknowledged: 0,
      resolved: 0,
      meanSecondsToAcknowledge: null,
      maxSecondsToAcknowledge: null,
      meanSecondsToResolve: null,
      maxSecondsToResolve: null,
      items: [],
      truncated: false,
    };
    const toAck: number[] = [];
    const toResolve: number[] = [];
    for (let offset = 0; offset <= MAX_ANOMALY_OFFSET; offset += ANOMALY_PAGE) {
      const page = await this.anomalies.list({
        agentId: r.agentId,
        labels: r.labels,
        from: r.from.toISOString(),
        to: r.to.toISOString(),
        limit: ANOMALY_PAGE,
        offset,
      } as ListAnomaliesQuery);
      out.total = page.total;
      for (const a of page.items) {
        bump(out.byType, a.type);
        bump(out.bySeverity, a.severity);
        bump(out.byStatus, a.status);
        const ack = secondsBetween(a.firstSeen, a.acknowledgedAt);
        const res = secondsBetween(a.firstSeen, a.resolvedAt);
        if (ack !== null) toAck.push(ack);
        if (res !== null) toResolve.push(res);
        if (out.items.length < MAX_ANOMALY_ITEMS) {
          out.items.push({
            id: a.id,
            type: a.type,
            severity: a.severity,
            status: a.status,
            hostname: a.hostname,
            firstSeen: a.firstSeen,
            acknowledgedBy: a.acknowledgedBy,
            secondsToAcknowledge: ack,
            resolvedBy: a.resolvedBy,
            secondsToResolve: res,
            summary: a.summary,
          });
        }
      }
      if (page.items.length < ANOMALY_PAGE) break;
    }
    out.acknowledged = toAck.length;
    out.resolved = toResolve.length;
    out.meanSecondsToAcknowledge = mean(toAck);
    out.maxSecondsToAcknowledge = max(toAck);
    out.meanSecondsToResolve = mean(toResolve);
    out.maxSecondsToResolve = max(toResolve);
    out.truncated = out.total > out.items.length;
    return out;
  }

  /** Operators' actions and failed sign-ins in the period (server-wide: the trail is one). */
  private async auditSection(
    from: Date,
    to: Date,
  ): Promise<Omit<ReportDocument['audit'], 'chain'>> {
    const out: Omit<ReportDocument['audit'], 'chain'> = {
      operatorActions: 0,
      operatorActionsByAction: {},
      failedSignIns: 0,
      failedSignInsByUser: {},
      items: [],
      truncated: false,
    };
    for await (const page of this.auditQueries.scan({ from, to })) {
      for (const e of page) {
        const failedSignIn = e.action === 'auth.login' && e.outcome !== 'success';
        const operator = e.actorRole === 'operator';
        if (!failedSignIn && !operator) continue;
        if (failedSignIn) {
          out.failedSignIns++;
          bump(out.failedSignInsByUser, e.actor ?? '?');
        } else {
          out.operatorActions++;
          bump(out.operatorActionsByAction, e.action);
        }
        if (out.items.length < MAX_AUDIT_ITEMS) {
          out.items.push({
            sequence: e.sequence.toString(),
            time: new Date(e.timeMs).toISOString(),
            actor: e.actor,
            action: e.action,
            target: e.target,
            outcome: e.outcome,
          });
        } else out.truncated = true;
      }
    }
    return out;
  }
}

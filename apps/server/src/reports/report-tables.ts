// The report as titled tables: one model that the CSV and PDF renderers both
// walk, so the two can never show different figures.

import type { ReportDocument } from './report-document';
import { catalog } from './report-i18n';

/** count: exact counter; number: measured figure; time: ISO instant; text: as is. */
export type ColumnKind = 'text' | 'count' | 'number' | 'time';
export type Cell = string | number | null;

export interface Table {
  columns: { title: string; kind: ColumnKind }[];
  rows: Cell[][];
}

export interface Section {
  key: string;
  title: string;
  tables: Table[];
  note?: string;
}

const kv = (
  t: ReturnType<typeof catalog>,
  rows: [string, Cell, ColumnKind][],
): Table & { kinds: ColumnKind[] } => ({
  columns: [
    { title: t.cols.item, kind: 'text' },
    { title: t.cols.value, kind: 'text' },
  ],
  rows: rows.map(([k, v]) => [k, v]),
  kinds: rows.map(([, , kind]) => kind),
});

/** A key/value table whose value cells each have their own kind. */
export interface KeyValueTable extends Table {
  kinds: ColumnKind[];
}

export function isKeyValue(t: Table): t is KeyValueTable {
  return Array.isArray((t as KeyValueTable).kinds);
}

export function reportSections(d: ReportDocument): Section[] {
  const t = catalog(d.lang);
  const yes = (b: boolean) => (b ? t.k.yes : t.k.no);
  const dir = (x: string) => t.directions[x] ?? x;
  const c = d.coverage;
  const sections: Section[] = [
    {
      key: 'coverage',
      title: t.sections.coverage,
      tables: [
        kv(t, [
          [t.k.hostsInScope, c.hostsInScope, 'count'],
          [t.k.hostsReporting, c.hostsReporting, 'count'],
          [t.k.hostsSilent, c.hostsSilent.length ? c.hostsSilent.join(', ') : t.k.none, 'text'],
          [t.k.coveragePercent, c.coveragePercent, 'number'],
          [t.k.lostBatches, c.lostBatches, 'count'],
          [
            t.k.maskingModes,
            Object.entries(c.maskingModes)
              .map(([m, n]) => `${m}: ${n}`)
              .join(', ') || t.k.none,
            'text',
          ],
        ]),
        {
          columns: [
            { title: t.cols.hostname, kind: 'text' },
            { title: t.cols.windows, kind: 'count' },
            { title: t.cols.coverage, kind: 'number' },
            { title: t.cols.missing, kind: 'number' },
            { title: t.cols.lostBatches, kind: 'count' },
            { title: t.cols.masking, kind: 'text' },
          ],
          rows: c.hosts.map((h) => [
            h.hostname,
            h.windows,
            h.coveragePercent,
            h.missingMs / 1000,
            h.lostBatches,
            h.masking,
          ]),
        },
        ...(c.gaps.length
          ? [
              {
                columns: [
                  { title: t.cols.hostname, kind: 'text' as const },
                  { title: t.cols.first, kind: 'count' as const },
                  { title: t.cols.last, kind: 'count' as const },
                  { title: t.cols.recordedAt, kind: 'time' as const },
                ],
                rows: c.gaps.map((g) => [
                  g.hostname,
                  g.firstSequence,
                  g.lastSequence,
                  g.recordedAt,
                ]),
              },
            ]
          : []),
      ],
    },
    {
      key: 'protocols',
      title: t.sections.protocols,
      tables: [
        {
          columns: [
            { title: t.cols.protocol, kind: 'text' },
            { title: t.cols.packets, kind: 'count' },
            { title: t.cols.bytes, kind: 'count' },
            { title: t.cols.share, kind: 'number' },
          ],
          rows: [
            ...d.protocols.map((p) => [p.protocol, p.packets, p.bytes, p.sharePercent]),
            [t.k.totalBytes, d.total.packets, d.total.bytes, d.protocols.length ? 100 : 0],
          ],
        },
      ],
    },
    {
      key: 'directions',
      title: t.sections.directions,
      tables: [
        {
          columns: [
            { title: t.cols.direction, kind: 'text' },
            { title: t.cols.packets, kind: 'count' },
            { title: t.cols.bytes, kind: 'count' },
            { title: t.cols.share, kind: 'number' },
          ],
          rows: d.directions.map((p) => [dir(p.direction), p.packets, p.bytes, p.sharePercent]),
        },
      ],
    },
    {
      key: 'rates',
      title: t.sections.rates,
      tables: [
        {
          columns: [
            { title: t.cols.direction, kind: 'text' },
            { title: t.cols.avgBps, kind: 'number' },
            { title: t.cols.peakBps, kind: 'number' },
            { title: t.cols.avgPps, kind: 'number' },
            { title: t.cols.peakPps, kind: 'number' },
          ],
          rows: d.rates.map((r) => [
            dir(r.direction),
            r.avgBitsPerSecond,
            r.peakBitsPerSecond,
            r.avgPacketsPerSecond,
            r.peakPacketsPerSecond,
          ]),
        },
      ],
    },
    {
      key: 'ports',
      title: t.sections.ports,
      tables: [
        {
          columns: [
            { title: t.cols.port, kind: 'text' },
            { title: t.cols.protocol, kind: 'text' },
            { title: t.cols.packets, kind: 'count' },
            { title: t.cols.bytes, kind: 'count' },
            { title: t.cols.connections, kind: 'count' },
            { title: t.cols.abnormal, kind: 'text' },
          ],
          rows: d.topPorts.map((p) => [
            String(p.port),
            p.protocol,
            p.packets,
            p.bytes,
            p.connections,
            yes(p.abnormal),
          ]),
        },
      ],
    },
    {
      key: 'talkers',
      title: t.sections.talkers,
      tables: [
        {
          columns: [
            { title: t.cols.src, kind: 'text' },
            { title: t.cols.dst, kind: 'text' },
            { title: t.cols.protocol, kind: 'text' },
            { title: t.cols.packets, kind: 'count' },
            { title: t.cols.bytes, kind: 'count' },
          ],
          rows: d.topTalkers.map((x) => [x.src, x.dst, x.protocol, x.packets, x.bytes]),
        },
      ],
    },
    {
      key: 'connections',
      title: t.sections.connections,
      tables: [
        kv(t, [
          [t.cols.windows, d.connections.windows, 'count'],
          [t.k.openedClient, d.connections.openedClient, 'count'],
          [t.k.openedServer, d.connections.openedServer, 'count'],
          [t.k.failed, d.connections.failed, 'count'],
          [t.k.closed, d.connections.closed, 'count'],
          [t.k.retransmits, d.connections.retransmits, 'count'],
          [t.k.peakOpenedPerSecond, d.connections.peakOpenedPerSecond, 'number'],
          [t.k.activeMax, d.connections.activeMax, 'count'],
          [t.k.meanDurationMs, d.connections.meanDurationMs, 'number'],
        ]),
      ],
    },
    {
      key: 'highRisk',
      title: t.sections.highRisk,
      tables: [
        kv(t, [
          [t.k.riskPorts, d.highRiskPorts.ports.join(', '), 'text'],
          [t.k.exposedCount, d.highRiskPorts.exposed.length, 'count'],
        ]),
        {
          columns: [
            { title: t.cols.hostname, kind: 'text' },
            { title: t.cols.protocol, kind: 'text' },
            { title: t.cols.port, kind: 'text' },
            { title: t.cols.loopback, kind: 'text' },
            { title: t.cols.firstSeen, kind: 'time' },
          ],
          rows: d.highRiskPorts.exposed.map((e) => [
            e.hostname,
            e.protocol,
            String(e.port),
            yes(e.loopbackOnly),
            e.firstSeen,
          ]),
        },
      ],
    },
    {
      key: 'anomalies',
      title: t.sections.anomalies,
      note: d.anomalies.truncated ? t.k.truncated : undefined,
      tables: [
        kv(t, [
          [t.k.anomaliesTotal, d.anomalies.total, 'count'],
          [t.k.acknowledged, d.anomalies.acknowledged, 'count'],
          [t.k.resolved, d.anomalies.resolved, 'count'],
          [t.k.meanToAck, d.anomalies.meanSecondsToAcknowledge, 'number'],
          [t.k.maxToAck, d.anomalies.maxSecondsToAcknowledge, 'number'],
          [t.k.meanToResolve, d.anomalies.meanSecondsToResolve, 'number'],
          [t.k.maxToResolve, d.anomalies.maxSecondsToResolve, 'number'],
        ]),
        {
          columns: [
            { title: t.cols.type, kind: 'text' },
            { title: t.cols.count, kind: 'count' },
          ],
          rows: Object.entries(d.anomalies.byType).map(([k, n]) => [k, n]),
        },
        {
          columns: [
            { title: t.cols.type, kind: 'text' },
            { title: t.cols.severity, kind: 'text' },
            { title: t.cols.status, kind: 'text' },
            { title: t.cols.hostname, kind: 'text' },
            { title: t.cols.firstSeen, kind: 'time' },
            { title: t.cols.ackBy, kind: 'text' },
            { title: t.cols.toAck, kind: 'number' },
            { title: t.cols.resolvedBy, kind: 'text' },
            { title: t.cols.toResolve, kind: 'number' },
          ],
          rows: d.anomalies.items.map((a) => [
            a.type,
            a.severity,
            a.status,
            a.hostname,
            a.firstSeen,
            a.acknowledgedBy,
            a.secondsToAcknowledge,
            a.resolvedBy,
            a.secondsToResolve,
          ]),
        },
      ],
    },
    {
      key: 'audit',
      title: t.sections.audit,
      note: d.audit.truncated ? t.k.truncated : undefined,
      tables: [
        kv(t, [
          [t.k.operatorActions, d.audit.operatorActions, 'count'],
          [t.k.failedSignIns, d.audit.failedSignIns, 'count'],
        ]),
        {
          columns: [
            { title: t.cols.action, kind: 'text' },
            { title: t.cols.count, kind: 'count' },
          ],
          rows: Object.entries(d.audit.operatorActionsByAction).map(([k, n]) => [k, n]),
        },
        {
          columns: [
            { title: t.cols.user, kind: 'text' },
            { title: t.k.failedSignIns, kind: 'count' },
          ],
          rows: Object.entries(d.audit.failedSignInsByUser).map(([k, n]) => [k, n]),
        },
        {
          columns: [
            { title: t.cols.sequence, kind: 'text' },
            { title: t.cols.time, kind: 'time' },
            { title: t.cols.actor, kind: 'text' },
            { title: t.cols.action, kind: 'text' },
            { title: t.cols.target, kind: 'text' },
            { title: t.cols.outcome, kind: 'text' },
          ],
          rows: d.audit.items.map((e) => [
            e.sequence,
            e.time,
            e.actor,
            e.action,
            e.target,
            e.outcome,
          ]),
        },
      ],
    },
    {
      key: 'chain',
      title: t.sections.chain,
      tables: [
        kv(t, [
          [t.k.chainOk, d.audit.chain.ok ? t.k.passed : t.k.failedCheck, 'text'],
          [t.k.chainChecked, d.audit.chain.checked, 'count'],
          [t.k.chainMode, d.audit.chain.mode, 'text'],
          [t.k.brokenAt, d.audit.chain.brokenAt ?? t.k.none, 'text'],
          [t.k.reason, d.audit.chain.reason ?? t.k.none, 'text'],
          [
            t.k.head,
            d.audit.chain.head
              ? `${d.audit.chain.head.sequence} ${d.audit.chain.head.hash.slice(0, 16)}…`
              : t.k.none,
            'text',
          ],
          [
            t.k.lastCheckpoint,
            d.audit.chain.lastCheckpoint
              ? `${d.audit.chain.lastCheckpoint.sequence} @ ${d.audit.chain.lastCheckpoint.time}`
              : d.audit.chain.checkpointsEnabled
                ? t.k.none
                : t.k.checkpointsOff,
            'text',
          ],
        ]),
      ],
    },
  ];
  return sections;
}

/** The heading lines both renderers put first. */
export function reportHeading(d: ReportDocument): [string, string][] {
  const t = catalog(d.lang);
  const scope = d.scope.agentId
    ? `${t.host} ${d.scope.agentId}`
    : d.scope.labels
      ? `${t.labels} ${d.scope.labels}`
      : t.fleet;
  return [
    [t.period, `${d.from} — ${d.to}`],
    [t.scope, `${scope} (${d.scope.hosts})`],
    [t.generatedAt, d.generatedAt],
  ];
}

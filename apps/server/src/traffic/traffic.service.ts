import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { InvalidInputError, NotFoundError } from '../common/domain-errors';
import { parseLabelSelector } from '../common/label-selector';
import { columnFor } from '../common/sql-columns';
import { MetricsService } from '../health/metrics.service';
import { HostsRepository } from '../hosts/hosts.repository';
import { API_DIRECTIONS, API_FAMILIES, API_PROTOCOLS, apiName } from '../storage/codes';
import { Resolution, seriesByName } from '../storage/series';
import { maxed, Metric, querySeries, SegmentQuery, summed } from '../storage/series-query';
import {
  RatesQuery,
  HostRank,
  ResolutionChoice,
  SeriesQuery,
  SparklinesQuery,
  TopHostsQuery,
  TopQuery,
  TrafficFilterQuery,
  TrafficScopeQuery,
} from './dto/traffic.query';
import { SparklinesView } from './dto/traffic.views';
import {
  autoResolution,
  DAY_MS,
  HOUR_MS,
  Segment,
  SERIES_MAX_RANGE_MS,
  totalsPlan,
} from './time-range';

const MAX_RANGE_MS = 800 * DAY_MS;

// A request's sort and grouping names pick one of these columns: the SQL never
// contains text that came from the request, whatever the DTO lets through.
const TOP_SORT_COLUMNS: Record<TopQuery['sort'], string> = {
  bytes: 'bytes',
  packets: 'packets',
  connections: 'connections',
};
const SERIES_GROUP_COLUMNS: Record<Exclude<SeriesQuery['groupBy'], 'none'>, string> = {
  direction: 'direction',
  protocol: 'protocol',
  family: 'family',
  iface: 'iface',
};

// What each host ranking sums: a column of the traffic or the windows (TCP) series.
const HOST_RANK_SUMS: Record<HostRank, { series: 'traffic' | 'windows'; column: string }> = {
  bytes: { series: 'traffic', column: 'bytes' },
  packets: { series: 'traffic', column: 'packets' },
  failed: { series: 'windows', column: 'failed' },
  retransmits: { series: 'windows', column: 'retransmits' },
};

export interface ResolvedScope {
  agentIds: string[] | null;
  from: Date;
  to: Date;
  scope: { agentId?: string; selector?: string; hosts: number | null };
}

type Row = Record<string, string | number | Date | boolean | null>;

const stepSecondsOf = (r: Resolution) => (r === 'raw' ? null : r === '1m' ? 60 : 3600);
const str = (v: unknown) => (v === null || v === undefined ? '0' : String(v));
const num = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));

/** Traffic queries over the raw tables and rollups; the SQL is storage/series-query.ts'. */
@Injectable()
export class TrafficService {
  constructor(
    private readonly ds: DataSource,
    private readonly hosts: HostsRepository,
    private readonly metrics: MetricsService,
  ) {}

  async resolveScope(q: TrafficScopeQuery): Promise<ResolvedScope> {
    if (q.agentId && q.selector)
      throw new InvalidInputError('agentId and selector are exclusive; give one');
    const { from, to } = this.resolveRange(q);
    if (q.agentId) {
      if (!(await this.hosts.exists(q.agentId)))
        throw new NotFoundError(`no host with agentId ${q.agentId}`);
      return { agentIds: [q.agentId], from, to, scope: { agentId: q.agentId, hosts: 1 } };
    }
    if (q.selector) {
      const ids = await this.hosts.idsWithLabels(parseLabelSelector(q.selector));
      return { agentIds: ids, from, to, scope: { selector: q.selector, hosts: ids.length } };
    }
    return { agentIds: null, from, to, scope: { hosts: null } };
  }

  /** [from, to) of a request: to defaults to now, from to an hour before it. */
  private resolveRange(q: { from?: string; to?: string }): { from: Date; to: Date } {
    const to = q.to ? new Date(q.to) : new Date();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - HOUR_MS);
    if (from.getTime() >= to.getTime()) throw new InvalidInputError('from must be before to');
    if (to.getTime() - from.getTime() > MAX_RANGE_MS) {
      throw new InvalidInputError('from..to must not span more than 800 days');
    }
    return { from, to };
  }

  /** The table a series over [from, to) reads, refusing a range too long for it. */
  private seriesResolution(from: Date, to: Date, choice: ResolutionChoice): Resolution {
    const resolution: Resolution = choice === 'auto' ? autoResolution(from, to) : choice;
    if (to.getTime() - from.getTime() > SERIES_MAX_RANGE_MS[resolution]) {
      throw new InvalidInputError(
        `resolution ${resolution} allows a range of at most ${SERIES_MAX_RANGE_MS[resolution] / DAY_MS} days; use a coarser resolution`,
      );
    }
    return resolution;
  }

  private async run(name: string, q: SegmentQuery): Promise<Row[]> {
    return this.metrics.timeQuery(name, () => querySeries<Row>(this.ds, q));
  }

  private header(s: ResolvedScope, segments: Segment[]) {
    return {
      from: s.from.toISOString(),
      to: s.to.toISOString(),
      scope: s.scope,
      resolutions: [...new Set(segments.map((x) => x.resolution))],
    };
  }

  private filters(q: TrafficFilterQuery): Record<string, unknown> {
    return {
      protocol: q.protocol ? API_PROTOCOLS.indexOf(q.protocol) : undefined,
      direction: q.direction ? API_DIRECTIONS.indexOf(q.direction) : undefined,
      family: q.family ? API_FAMILIES.indexOf(q.family) : undefined,
      iface: q.iface,
    };
  }

  async summary(q: TrafficFilterQuery) {
    const s = await this.resolveScope(q);
    const segments = totalsPlan(s.from, s.to, q.resolution);
    const rows = await this.run('summary', {
      series: seriesByName('traffic'),
      segments,
      groupBy: ['protocol', 'direction'],
      metrics: [summed('packets'), summed('bytes')],
      agentIds: s.agentIds,
      filters: this.filters(q),
    });
    let packets = 0n;
    let bytes = 0n;
    const items = rows.map((r) => {
      packets += BigInt(str(r.packets));
      bytes += BigInt(str(r.bytes));
      return {
        protocol: apiName(API_PROTOCOLS, num(r.protocol)),
        direction: apiName(API_DIRECTIONS, num(r.direction)),
        packets: str(r.packets),
        bytes: str(r.bytes),
      };
    });
    return {
      ...this.header(s, segments),
      items,
      total: { packets: packets.toString(), bytes: bytes.toString() },
    };
  }

  async series(q: SeriesQuery) {
    const s = await this.resolveScope(q);
    const resolution = this.seriesResolution(s.from, s.to, q.resolution);
    const segments: Segment[] = [{ resolution, from: s.from, to: s.to }];
    const groupBy =
      q.groupBy === 'none' ? [] : [columnFor(SERIES_GROUP_COLUMNS, q.groupBy, 'groupBy')];
    const rows = await this.run('series', {
      series: seriesByName('traffic'),
      segments,
      groupBy,
      byTime: true,
      metrics: [summed('packets'), summed('bytes')],
      agentIds: s.agentIds,
      filters: this.filters(q),
    });
    const label = (r: Row): string => {
      switch (q.groupBy) {
        case 'direction':
          return apiName(API_DIRECTIONS, num(r.direction));
        case 'protocol':
          return apiName(API_PROTOCOLS, num(r.protocol));
        case 'family':
          return apiName(API_FAMILIES, num(r.family));
        case 'iface':
          return String(r.iface);
        default:
          return 'all';
      }
    };
    return {
      ...this.header(s, segments),
      resolution,
      stepSeconds: stepSecondsOf(resolution),
      groupBy: q.groupBy,
      points: rows.map((r) => ({
        t: (r.t as Date).toISOString(),
        key: label(r),
        packets: str(r.packets),
        bytes: str(r.bytes),
      })),
    };
  }

  /**
   * Each host's series over one range (groupBy none), for many hosts in one statement: the
   * fleet list's visible rows ask once, not once per row. A host's points are exactly those
   * series() answers for it alone (same table, same range, same sums, grouped by host too).
   */
  async sparklines(q: SparklinesQuery): Promise<SparklinesView> {
    const { from, to } = this.resolveRange(q);
    const resolution = this.seriesResolution(from, to, q.resolution);
    const lost = await this.hosts.lostBatchesById(q.agentId);
    const unknown = q.agentId.filter((id) => !lost.has(id.toLowerCase()));
    if (unknown.length) throw new NotFoundError(`no host with agentId ${unknown.join(', ')}`);
    const rows = await this.run('sparklines', {
      series: seriesByName('traffic'),
      segments: [{ resolution, from, to }],
      groupBy: ['agent_id'],
      byTime: true,
      metrics: [summed('packets'), summed('bytes')],
      agentIds: q.agentId,
      filters: {},
    });
    // Rows come ordered by (t, agent_id): each host's points stay in time order.
    const points = new Map<string, SparklinesView['items'][number]['points']>(
      q.agentId.map((id) => [id.toLowerCase(), []]),
    );
    for (const r of rows) {
      points.get(String(r.agent_id))?.push({
        t: (r.t as Date).toISOString(),
        key: 'all',
        packets: str(r.packets),
        bytes: str(r.bytes),
      });
    }
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      resolution,
      stepSeconds: stepSecondsOf(resolution),
      items: q.agentId.map((id) => ({
        agentId: id,
        lostBatches: lost.get(id.toLowerCase())!,
        points: points.get(id.toLowerCase())!,
      })),
    };
  }

  async rates(q: RatesQuery) {
    const s = await this.resolveScope(q);
    const segments = totalsPlan(s.from, s.to, q.resolution);
    const seconds = (s.to.getTime() - s.from.getTime()) / 1000;
    const totals = await this.run('rates-totals', {
      series: seriesByName('traffic'),
      segments,
      groupBy: ['direction'],
      metrics: [summed('packets'), summed('bytes')],
      agentIds: s.agentIds,
      filters: q.iface ? { iface: q.iface } : {},
    });
    // The highest per-second peak any host reported, with where and when.
    const peaks = await this.run('rates-peaks', {
      series: seriesByName('rates'),
      segments,
      groupBy: ['direction'],
      metrics: [maxed('peak_bps'), maxed('peak_pps')],
      agentIds: s.agentIds,
      filters: { iface: q.iface },
    });
    const items = ['ingress', 'egress'].map((dir) => {
      const code = API_DIRECTIONS.indexOf(dir as 'ingress');
      const t = totals.find((r) => num(r.direction) === code);
      const p = peaks.find((r) => num(r.direction) === code);
      return {
        direction: dir,
        bytes: str(t?.bytes),
        packets: str(t?.packets),
        avgBitsPerSecond: (num(t?.bytes) * 8) / seconds,
        avgPacketsPerSecond: num(t?.packets) / seconds,
        peakBitsPerSecond: num(p?.peak_bps),
        peakPacketsPerSecond: num(p?.peak_pps),
      };
    });
    return { ...this.header(s, segments), seconds, iface: q.iface, items };
  }

  async topPorts(q: TopQuery) {
    const s = await this.resolveScope(q);
    const segments = totalsPlan(s.from, s.to, q.resolution);
    const abnormal: Metric = {
      name: 'abnormal',
      raw: 'bool_or(abnormal)',
      rollup: 'bool_or(abnormal)',
      outer: 'bool_or',
    };
    const rows = await this.run('top-ports', {
      series: seriesByName('ports'),
      segments,
      groupBy: ['port', 'protocol'],
      metrics: [summed('packets'), summed('bytes'), summed('connections'), abnormal],
      agentIds: s.agentIds,
      filters: { protocol: q.protocol ? API_PROTOCOLS.indexOf(q.protocol) : undefined },
      orderBy: [
        { key: columnFor(TOP_SORT_COLUMNS, q.sort, 'sort'), desc: true },
        { key: 'port' },
        { key: 'protocol' },
      ],
      limit: q.limit,
    });
    return {
      ...this.header(s, segments),
      items: rows.map((r) => ({
        port: num(r.port),
        protocol: apiName(API_PROTOCOLS, num(r.protocol)),
        packets: str(r.packets),
        bytes: str(r.bytes),
        connections: str(r.connections),
        abnormal: r.abnormal === true,
      })),
    };
  }

  async topTalkers(q: TopQuery) {
    const s = await this.resolveScope(q);
    if (q.sort === 'connections')
      throw new InvalidInputError('sort must be bytes or packets for talkers');
    const segments = totalsPlan(s.from, s.to, q.resolution);
    const rows = await this.run('top-talkers', {
      series: seriesByName('talkers'),
      segments,
      groupBy: ['src', 'dst', 'protocol'],
      metrics: [summed('packets'), summed('bytes')],
      agentIds: s.agentIds,
      filters: { protocol: q.protocol ? API_PROTOCOLS.indexOf(q.protocol) : undefined },
      orderBy: [
        { key: columnFor(TOP_SORT_COLUMNS, q.sort, 'sort'), desc: true },
        { key: 'src' },
        { key: 'dst' },
        { key: 'protocol' },
      ],
      limit: q.limit,
    });
    return {
      ...this.header(s, segments),
      items: rows.map((r) => ({
        src: String(r.src),
        dst: String(r.dst),
        protocol: apiName(API_PROTOCOLS, num(r.protocol)),
        packets: str(r.packets),
        bytes: str(r.bytes),
      })),
    };
  }

  async connections(q: TrafficScopeQuery) {
    const s = await this.resolveScope(q);
    const segments = totalsPlan(s.from, s.to, q.resolution);
    const rows = await this.run('connections', {
      series: seriesByName('windows'),
      segments,
      groupBy: [],
      metrics: [
        { name: 'windows', raw: 'count(*)', rollup: 'sum(windows)', outer: 'sum' },
        summed('opened_client'),
        summed('opened_server'),
        summed('failed'),
        summed('closed'),
        summed('retransmits'),
        summed('active_sum', 'active_sum', 'active'),
        maxed('active_max', 'active_max', 'active'),
        maxed('peak_opened_per_second'),
        summed('duration_sum_ms'),
      ],
      agentIds: s.agentIds,
      filters: {},
    });
    const histograms = await this.run('connections-durations', {
      series: seriesByName('durations'),
      segments,
      groupBy: ['bounds'],
      metrics: [
        { name: 'windows', raw: 'count(*)', rollup: 'sum(windows)', outer: 'sum' },
        {
          name: 'counts',
          raw: 'tw_sum_array(counts)',
          rollup: 'tw_sum_array(counts)',
          outer: 'tw_sum_array',
        },
        summed('sum_ms'),
      ],
      agentIds: s.agentIds,
      filters: {},
    });
    const r = rows[0] ?? {};
    const seconds = (s.to.getTime() - s.from.getTime()) / 1000;
    const opened = num(r.opened_client) + num(r.opened_server);
    return {
      ...this.header(s, segments),
      windows: str(r.windows),
      openedClient: str(r.opened_client),
      openedServer: str(r.opened_server),
      failed: str(r.failed),
      closed: str(r.closed),
      retransmits: str(r.retransmits),
      openedPerSecond: opened / seconds,
      peakOpenedPerSecond: num(r.peak_opened_per_second),
      activeMax: str(r.active_max),
      activeAvgPerWindow: num(r.windows) ? num(r.active_sum) / num(r.windows) : 0,
      meanDurationMs: num(r.closed) ? num(r.duration_sum_ms) / num(r.closed) : 0,
      durationHistograms: histograms.map((h) => ({
        boundsMs: (h.bounds as unknown as number[]).map(Number),
        counts: (h.counts as unknown as (string | number)[]).map(String),
        windows: str(h.windows),
        sumMs: num(h.sum_ms),
      })),
    };
  }

  /** The hosts with the highest sum of `by` over the range; hosts at 0 are left out. */
  async topHosts(q: TopHostsQuery) {
    const s = await this.resolveScope(q);
    const segments = totalsPlan(s.from, s.to, q.resolution);
    const { series, column } = HOST_RANK_SUMS[q.by];
    const rows = await this.run('top-hosts', {
      series: seriesByName(series),
      segments,
      groupBy: ['agent_id'],
      metrics: [summed(column)],
      agentIds: s.agentIds,
      filters: {},
      orderBy: [{ key: column, desc: true }, { key: 'agent_id' }],
      limit: q.limit,
    });
    return {
      ...this.header(s, segments),
      by: q.by,
      items: rows
        .filter((r) => str(r[column]) !== '0')
        .map((r) => ({ agentId: String(r.agent_id), value: str(r[column]) })),
    };
  }

  /** Windows and milliseconds each host covered in the range (a report's coverage). */
  async coverage(q: TrafficScopeQuery) {
    const s = await this.resolveScope(q);
    const segments = totalsPlan(s.from, s.to, q.resolution);
    const rows = await this.run('coverage', {
      series: seriesByName('windows'),
      segments,
      groupBy: ['agent_id'],
      metrics: [
        { name: 'windows', raw: 'count(*)', rollup: 'sum(windows)', outer: 'sum' },
        {
          name: 'milliseconds',
          raw: 'sum((extract(epoch FROM window_end - window_start) * 1000)::bigint)',
          rollup: 'sum(milliseconds)',
          outer: 'sum',
        },
      ],
      agentIds: s.agentIds,
      filters: {},
    });
    return {
      ...this.header(s, segments),
      items: rows.map((r) => ({
        agentId: String(r.agent_id),
        windows: str(r.windows),
        milliseconds: str(r.milliseconds),
      })),
    };
  }

  async drops(q: TrafficScopeQuery) {
    const s = await this.resolveScope(q);
    const segments = totalsPlan(s.from, s.to, q.resolution);
    const rows = await this.run('drops', {
      series: seriesByName('drops'),
      segments,
      groupBy: ['reason'],
      metrics: [summed('count')],
      agentIds: s.agentIds,
      filters: {},
      orderBy: [{ key: 'count', desc: true }, { key: 'reason' }],
    });
    const agent = await this.run('drops-agent', {
      series: seriesByName('windows'),
      segments,
      groupBy: [],
      metrics: [summed('flow_table_full'), summed('records_dropped')],
      agentIds: s.agentIds,
      filters: {},
    });
    return {
      ...this.header(s, segments),
      items: rows.map((r) => ({ reason: String(r.reason), count: str(r.count) })),
      agent: {
        flowTableFull: str(agent[0]?.flow_table_full),
        recordsDropped: str(agent[0]?.records_dropped),
      },
    };
  }
}

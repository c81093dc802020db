'use client';

import { useVirtualizer } from '@tanstack/react-virtual';
import { useLocale, useTranslations } from 'next-intl';
import { useEffect, useRef, useState } from 'react';
import { browserApi, Schemas } from '../api/client';
import { rateLines, RateLine } from '../charts/series-data';
import { formatBitRate, formatDateTime } from '../format/units';
import { Link } from '../i18n/navigation';
import { hasDeclaredGap, HostState } from '../model/host-state';
import { signInPath } from '../view-state/return-path';
import { Sparkline } from './Sparkline';

export interface FleetHost {
  agentId: string;
  hostname: string;
  state: HostState;
  labels: Record<string, string>;
  lastSeenAt: string | null;
}

interface RowLive {
  line: RateLine | null;
  lastWindowAt: number | null;
  currentBps: number | null;
  gap: boolean;
}

// Per-host figures are fetched only for rows on screen, once per page load.
const cache = new Map<string, Promise<RowLive>>();
/** How long a row stays on screen before its figures are fetched. */
const ROW_SETTLE_MS = 150;
/** The rows that settled within this long of each other are asked for in one request. */
const BATCH_TICK_MS = 40;
/** The most hosts one GET /traffic/sparklines may name (the server refuses more). */
const BATCH_MAX = 200;

function toSignIn(locale: string) {
  window.location.assign(signInPath(locale, window.location.pathname + window.location.search));
}

function rowOf(item: Schemas['SparklineItem'], stepSeconds: number | null): RowLive {
  const line = rateLines(item.points, stepSeconds, ['all'])[0] ?? null;
  const last = line?.points.filter((p) => p[1] !== null).at(-1) ?? null;
  return {
    line,
    lastWindowAt: last ? last[0] : null,
    currentBps: last ? last[1] : null,
    gap: hasDeclaredGap(item),
  };
}

interface Waiting {
  agentId: string;
  resolve: (r: RowLive) => void;
  reject: (e: unknown) => void;
}

/** Rows waiting for the next tick, per range (from|to) and locale. */
const queued = new Map<string, { from: string; to: string; locale: string; rows: Waiting[] }>();
let tick: ReturnType<typeof setTimeout> | undefined;

/** One GET /traffic/sparklines for up to BATCH_MAX rows of one range. */
async function fetchBatch(from: string, to: string, locale: string, rows: Waiting[]) {
  try {
    const res = await browserApi().GET('/api/v1/traffic/sparklines', {
      params: { query: { agentId: rows.map((r) => r.agentId), from, to } },
    });
    if (res.response.status === 401) toSignIn(locale);
    if (!res.data) throw new Error(`GET /api/v1/traffic/sparklines: ${res.response.status}`);
    const byId = new Map(res.data.items.map((i) => [i.agentId, i]));
    for (const r of rows) {
      const item = byId.get(r.agentId);
      if (item) r.resolve(rowOf(item, res.data.stepSeconds));
      else r.reject(new Error(`no series for ${r.agentId}`));
    }
  } catch (err) {
    for (const r of rows) r.reject(err);
  }
}

function flush() {
  tick = undefined;
  const groups = [...queued.values()];
  queued.clear();
  for (const g of groups) {
    for (let i = 0; i < g.rows.length; i += BATCH_MAX) {
      void fetchBatch(g.from, g.to, g.locale, g.rows.slice(i, i + BATCH_MAX));
    }
  }
}

/**
 * A row's figures: the rows that settled on screen within BATCH_TICK_MS of each other share one
 * request (the series and the declared-gap count of each), instead of two requests per row.
 */
function loadRow(agentId: string, from: string, to: string, locale: string): Promise<RowLive> {
  return new Promise<RowLive>((resolve, reject) => {
    const key = `${from}|${to}|${locale}`;
    const g = queued.get(key) ?? { from, to, locale, rows: [] };
    g.rows.push({ agentId, resolve, reject });
    queued.set(key, g);
    tick ??= setTimeout(flush, BATCH_TICK_MS);
  });
}

function Row({
  host,
  from,
  to,
  timeZone,
}: {
  host: FleetHost;
  from: string;
  to: string;
  timeZone: string;
}) {
  const t = useTranslations('fleet');
  const locale = useLocale();
  const [live, setLive] = useState<RowLive | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let alive = true;
    const key = `${host.agentId}|${from}|${to}`;
    const show = () => {
      if (!cache.has(key)) cache.set(key, loadRow(host.agentId, from, to, locale));
      cache
        .get(key)!
        .then((r) => alive && setLive(r))
        .catch(() => {
          // A failed row is asked for again the next time it comes on screen.
          cache.delete(key);
          if (alive) setFailed(true);
        });
    };
    // A row that leaves the screen within ROW_SETTLE_MS (End, a fast scroll) fetches nothing:
    // with 1,000 hosts the rows scrolled past queued ahead of the ones shown (bench:console).
    const timer = cache.has(key) ? undefined : setTimeout(show, ROW_SETTLE_MS);
    if (!timer) show();
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [host.agentId, from, to, locale]);
  const labels = Object.entries(host.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  let current: string;
  if (failed) current = t('rowFailed');
  else if (!live) current = t('loading');
  else if (live.currentBps === null)
    current = host.state === 'online' ? t('noWindows') : t('silentNoData');
  else current = formatBitRate(locale, live.currentBps);
  return (
    <>
      <span role="cell">
        <Link href={`/hosts/${host.agentId}`}>{host.hostname}</Link>
      </span>
      <span role="cell">
        <span className={`badge ${host.state}`} data-testid="host-state">
          {t(`state.${host.state}`)}
        </span>{' '}
        {live?.gap ? <span className="badge gap">{t('state.gap')}</span> : null}
      </span>
      <span role="cell" className="muted">
        {labels}
      </span>
      <span role="cell" className="num" data-testid="current-rate">
        {current}
      </span>
      <span role="cell">
        {live?.line?.points.length ? (
          <Sparkline
            points={live.line.points}
            from={Date.parse(from)}
            to={Date.parse(to)}
            label={t('sparkline', { host: host.hostname })}
            zeroLabel={t('sparklineZero', { host: host.hostname })}
          />
        ) : live ? (
          <span className="muted" data-testid="sparkline-none">
            {t('sparklineNone')}
          </span>
        ) : null}
      </span>
      <span role="cell" className="muted">
        {host.lastSeenAt ? formatDateTime(locale, timeZone, host.lastSeenAt) : t('never')}
      </span>
    </>
  );
}

/** Every host, virtualised: only the rows on screen exist in the DOM (1,000 hosts stay fast). */
export function FleetList({
  hosts,
  from,
  to,
  timeZone,
}: {
  hosts: FleetHost[];
  from: string;
  to: string;
  timeZone: string;
}) {
  const t = useTranslations('fleet');
  const parent = useRef<HTMLDivElement>(null);
  const v = useVirtualizer({
    count: hosts.length,
    getScrollElement: () => parent.current,
    estimateSize: () => 44,
    overscan: 8,
  });
  return (
    <div role="table" aria-label={t('hostsTable')} aria-rowcount={hosts.length + 1}>
      <div className="fleet-head" role="row">
        <span role="columnheader">{t('col.host')}</span>
        <span role="columnheader">{t('col.status')}</span>
        <span role="columnheader">{t('col.labels')}</span>
        <span role="columnheader" className="num">
          {t('col.rate')}
        </span>
        <span role="columnheader">{t('col.trend')}</span>
        <span role="columnheader">{t('col.lastSeen')}</span>
      </div>
      {/* The scrolling body is the table's row group: a table may own only rows and row groups. */}
      <div
        className="fleet-list"
        role="rowgroup"
        ref={parent}
        data-testid="fleet-list"
        tabIndex={0}
        style={{ height: Math.min(560, hosts.length * 44 + 2) }}
      >
        <div style={{ height: v.getTotalSize(), position: 'relative' }}>
          {v.getVirtualItems().map((item) => (
            <div
              key={hosts[item.index].agentId}
              className="fleet-row"
              role="row"
              aria-rowindex={item.index + 2}
              data-agent-id={hosts[item.index].agentId}
              style={{
                position: 'absolute',
                top: 0,
                left: 0,
                right: 0,
                transform: `translateY(${item.start}px)`,
              }}
            >
              <Row host={hosts[item.index]} from={from} to={to} timeZone={timeZone} />
            </div>
          ))}
        </div>
      </div>
    </div>
  );
}

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

function toSignIn(locale: string) {
  window.location.assign(signInPath(locale, window.location.pathname + window.location.search));
}

async function loadRow(
  agentId: string,
  from: string,
  to: string,
  locale: string,
): Promise<RowLive> {
  const api = browserApi();
  const [series, detail] = await Promise.all([
    api.GET('/api/v1/traffic/series', {
      params: { query: { agentId, from, to, groupBy: 'none' } },
    }),
    api.GET('/api/v1/hosts/{agentId}', { params: { path: { agentId } } }),
  ]);
  if (series.response.status === 401 || detail.response.status === 401) toSignIn(locale);
  const s = series.data as Schemas['SeriesView'] | undefined;
  const line = s ? (rateLines(s.points, s.stepSeconds, ['all'])[0] ?? null) : null;
  const last = line?.points.filter((p) => p[1] !== null).at(-1) ?? null;
  return {
    line,
    lastWindowAt: last ? last[0] : null,
    currentBps: last ? last[1] : null,
    gap: hasDeclaredGap((detail.data as Schemas['HostDetailView'] | undefined) ?? null),
  };
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
        .catch(() => alive && setFailed(true));
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
        {live?.line ? (
          <Sparkline
            points={live.line.points}
            from={Date.parse(from)}
            to={Date.parse(to)}
            label={t('sparkline', { host: host.hostname })}
          />
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

import { pageLocale } from '../../../../i18n/page-locale';
import { getTimeZone, getTranslations, setRequestLocale } from 'next-intl/server';
import { notFound } from 'next/navigation';
import { ApiStatusError, isApiError, specInteger } from '../../../../api/client';
import { ApiProblem } from '../../../../components/ApiProblem';
import { serverApi } from '../../../../api/server-api';
import { RateChart } from '../../../../charts/RateChart';
import { allZero, gaps, rateLines } from '../../../../charts/series-data';
import { LiveRefresh } from '../../../../live/LiveRefresh';
import { ProtocolMix } from '../../../../components/ProtocolMix';
import { RangeBar } from '../../../../components/RangeBar';
import { CompareBar } from '../../../../components/CompareBar';
import { formatChange } from '../../../../format/change';
import {
  formatBitRate,
  formatBytes,
  formatCount,
  formatDateTime,
  formatDecimal,
  formatDurationMs,
  formatPercent,
  formatPlain,
} from '../../../../format/units';
import { dropReasonKey } from '../../../../model/drop-reasons';
import { hostState } from '../../../../model/host-state';
import { parseRange, SearchParams, toSearch } from '../../../../view-state/range';
import {
  changeRatio,
  comparedRange,
  offsetMs,
  parseCompare,
  shiftPoints,
} from '../../../../view-state/compare';

export const dynamic = 'force-dynamic';

const PROTOCOLS = ['tcp', 'udp', 'icmp', 'icmpv6', 'other'] as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export default async function HostPage({
  params,
  searchParams,
}: {
  params: Promise<{ locale: string; agentId: string }>;
  searchParams: Promise<SearchParams>;
}) {
  const { agentId } = await params;
  const locale = await pageLocale(params);
  setRequestLocale(locale);
  if (!UUID.test(agentId)) notFound();
  const sp = await searchParams;
  const t = await getTranslations({ locale, namespace: 'host' });
  const tc = await getTranslations({ locale, namespace: 'common' });
  const tf = await getTranslations({ locale, namespace: 'fleet' });
  const timeZone = await getTimeZone();
  const range = parseRange(sp, new Date());
  const path = `/hosts/${agentId}`;
  const { client, call } = await serverApi(locale, `/${locale}${path}${toSearch(sp)}`);
  const from = range.from.toISOString();
  const to = range.to.toISOString();
  const q = { agentId, from, to };
  const compare = parseCompare(sp);
  const past = compare ? comparedRange(range, compare) : null;

  async function load() {
    let host;
    try {
      host = await call('/api/v1/hosts/{agentId}', () =>
        client.GET('/api/v1/hosts/{agentId}', { params: { path: { agentId } } }),
      );
    } catch (err) {
      if (err instanceof ApiStatusError && err.status === 404) notFound();
      throw err;
    }
    const [summary, series, rates, ports, talkers, conns, drops] = await Promise.all([
      call('summary', () => client.GET('/api/v1/traffic/summary', { params: { query: q } })),
      call('series', () =>
        client.GET('/api/v1/traffic/series', { params: { query: { ...q, groupBy: 'direction' } } }),
      ),
      call('rates', () => client.GET('/api/v1/traffic/rates', { params: { query: q } })),
      call('ports', () =>
        client.GET('/api/v1/traffic/ports', {
          params: { query: { ...q, limit: specInteger(10) } },
        }),
      ),
      call('talkers', () =>
        client.GET('/api/v1/traffic/talkers', {
          params: { query: { ...q, limit: specInteger(10) } },
        }),
      ),
      call('connections', () =>
        client.GET('/api/v1/traffic/connections', { params: { query: q } }),
      ),
      call('drops', () => client.GET('/api/v1/traffic/drops', { params: { query: q } })),
    ]);
    // The compared period through the same routes, its range shifted back.
    const pq = past && { agentId, from: past.from.toISOString(), to: past.to.toISOString() };
    const before = pq
      ? await Promise.all([
          call('summary (compared)', () =>
            client.GET('/api/v1/traffic/summary', { params: { query: pq } }),
          ),
          call('series (compared)', () =>
            client.GET('/api/v1/traffic/series', {
              params: { query: { ...pq, groupBy: 'direction' } },
            }),
          ),
        ])
      : null;
    return { host, summary, series, rates, ports, talkers, conns, drops, before };
  }
  let data: Awaited<ReturnType<typeof load>>;
  try {
    data = await load();
  } catch (err) {
    if (!isApiError(err)) throw err;
    return <ApiProblem error={err} locale={locale} />;
  }
  const { host, summary, series, rates, ports, talkers, conns, drops, before } = data;

  const state = hostState(host);
  // "No data" says why: no window arrived in the range (the agent was silent), or windows
  // arrived and counted zero.
  const lines = rateLines(series.points, series.stepSeconds, ['ingress', 'egress']);
  const holes = gaps(series.points, series.stepSeconds, range.from.getTime(), range.to.getTime());
  const dirBytes = (d: string) =>
    summary.items.filter((i) => i.direction === d).reduce((a, i) => a + BigInt(i.bytes), 0n);
  const dirPackets = (d: string) =>
    summary.items.filter((i) => i.direction === d).reduce((a, i) => a + BigInt(i.packets), 0n);
  const total = BigInt(summary.total.bytes);
  const rate = (d: string) => rates.items.find((i) => i.direction === d);

  // The compared period: its lines moved onto this range's axis, its totals beside these.
  const shift = compare ? offsetMs(compare) : 0;
  const pastPoints = before ? shiftPoints(before[1].points, shift) : [];
  const pastStep = before ? before[1].stepSeconds : null;
  const hasNow = series.points.length > 0;
  const hasPast = pastPoints.length > 0;
  const pastItems = before ? before[0].items : [];
  const pastFigures = {
    'total-bytes': BigInt(before?.[0].total.bytes ?? '0'),
    'total-packets': BigInt(before?.[0].total.packets ?? '0'),
    'bytes-ingress': pastItems
      .filter((i) => i.direction === 'ingress')
      .reduce((a, i) => a + BigInt(i.bytes), 0n),
    'bytes-egress': pastItems
      .filter((i) => i.direction === 'egress')
      .reduce((a, i) => a + BigInt(i.bytes), 0n),
  };
  const pastPeriod = past
    ? {
        from: formatDateTime(locale, timeZone, past.from),
        to: formatDateTime(locale, timeZone, past.to),
      }
    : null;
  const compareChart =
    compare && pastPeriod
      ? {
          lines: rateLines(pastPoints, pastStep, ['ingress', 'egress']),
          gaps: gaps(pastPoints, pastStep, range.from.getTime(), range.to.getTime()),
          names: Object.fromEntries(
            (['ingress', 'egress'] as const).map((d) => [
              d,
              t('compare.series', { direction: tc(`direction.${d}`), ...pastPeriod }),
            ]),
          ),
        }
      : undefined;
  /** The compared figure under a current one, and the change where both periods have data. */
  const pastFigure = (id: keyof typeof pastFigures, current: bigint) => {
    if (!compare) return null;
    const ratio = changeRatio(hasNow ? current : null, hasPast ? pastFigures[id] : null);
    return (
      <div className="sub" data-testid={`compare-${id}`}>
        {t(`compare.short.${compare}`)}{' '}
        <span data-testid={`prev-${id}`}>
          {hasPast ? formatCount(locale, pastFigures[id]) : t('compare.noData')}
        </span>
        {ratio !== null ? (
          <>
            {' · '}
            <span data-testid={`change-${id}`}>{formatChange(locale, ratio)}</span>
          </>
        ) : null}
      </div>
    );
  };
  const protocolNames = Object.fromEntries(PROTOCOLS.map((p) => [p, tc(`protocol.${p}`)]));

  // The kernel's reason names, translated; a name the catalogs lack is shown as the kernel's.
  const dropReasonName = (raw: string) => {
    const key = dropReasonKey(raw);
    return t.has(`dropReason.${key}` as 'dropReason.unknown')
      ? t(`dropReason.${key}` as 'dropReason.unknown')
      : t('kernelReason', { name: key });
  };

  let noData: string | null = null;
  if (conns.windows === '0') {
    noData = host.lastBatchAt
      ? t('noData.silentSince', { time: formatDateTime(locale, timeZone, host.lastBatchAt) })
      : t('noData.neverReported');
  } else if (allZero(series.points)) {
    noData = t('noData.zeroTraffic');
  }

  return (
    <>
      <h1>
        {host.hostname}{' '}
        <span className={`badge ${state}`} data-testid="host-state">
          {tf(`state.${state}`)}
        </span>{' '}
        {host.lostBatches > 0 ? (
          <span className="badge gap" data-testid="host-gap">
            {tf('state.gap')}
          </span>
        ) : null}
      </h1>
      <p className="muted">
        {t('facts', {
          labels:
            Object.entries(host.labels)
              .map(([k, v]) => `${k}=${v}`)
              .join(', ') || '—',
          kernel: host.kernelRelease,
          version: host.agentVersion,
        })}
        {' · '}
        {host.lastSeenAt
          ? t('lastSeen', { time: formatDateTime(locale, timeZone, host.lastSeenAt) })
          : tf('never')}
      </p>
      {host.lostBatches > 0 ? (
        <p className="banner notice" data-testid="declared-gap">
          {t('declaredGap', { count: host.lostBatches })}
        </p>
      ) : null}
      <LiveRefresh
        room={`host:${agentId}`}
        range={{ from: range.from.getTime(), to: range.to.getTime(), live: !!range.preset }}
        on={['batch']}
      />
      <RangeBar path={path} params={sp} range={range} locale={locale} timeZone={timeZone} />
      <CompareBar
        path={path}
        params={sp}
        compare={compare}
        period={past}
        locale={locale}
        timeZone={timeZone}
      />
      {noData ? (
        <p className="banner notice" data-testid="no-data">
          {noData}
        </p>
      ) : null}
      <section className="cards" aria-label={t('totals')}>
        <div className="card">
          <div className="label">{tc('bytes')}</div>
          <div className="value" data-testid="total-bytes">
            {formatCount(locale, summary.total.bytes)}
          </div>
          <div className="sub">{formatBytes(locale, summary.total.bytes)}</div>
          {pastFigure('total-bytes', total)}
        </div>
        <div className="card">
          <div className="label">{tc('packets')}</div>
          <div className="value" data-testid="total-packets">
            {formatCount(locale, summary.total.packets)}
          </div>
          {pastFigure('total-packets', BigInt(summary.total.packets))}
        </div>
        {(['ingress', 'egress'] as const).map((d) => (
          <div className="card" key={d} data-testid={`dir-${d}`}>
            <div className="label">{tc(`direction.${d}`)}</div>
            <div className="value" data-testid={`bytes-${d}`}>
              {formatCount(locale, dirBytes(d))}
            </div>
            <div className="sub">
              {t('dirSub', {
                share: formatPercent(locale, dirBytes(d), total),
                packets: formatCount(locale, dirPackets(d)),
              })}
            </div>
            <div className="sub" data-testid={`rate-${d}`}>
              {t('avgPeak', {
                avg: formatBitRate(locale, rate(d)?.avgBitsPerSecond ?? 0),
                peak: formatBitRate(locale, rate(d)?.peakBitsPerSecond ?? 0),
              })}
            </div>
            {pastFigure(`bytes-${d}`, dirBytes(d))}
          </div>
        ))}
      </section>
      <h2>{t('rateChart')}</h2>
      <RateChart
        lines={lines}
        gaps={holes}
        from={range.from.getTime()}
        to={range.to.getTime()}
        locale={locale}
        timeZone={timeZone}
        names={{ ingress: tc('direction.ingress'), egress: tc('direction.egress') }}
        words={{
          title: t('rateChart'),
          axis: t('axis', { zone: timeZone }),
          gap: t('gap'),
          peak: t('peakMark'),
        }}
        compare={compareChart}
        zoom={{ path, params: sp }}
      />
      <p className="muted" data-testid="zoom-hint">
        {t('zoomHint')}
      </p>
      <div className="grid2">
        <section>
          <h2>{t('protocolMix')}</h2>
          <ProtocolMix
            items={summary.items}
            locale={locale}
            words={{
              caption: t('protocolMixCaption'),
              protocol: tc('protocolCol'),
              packets: tc('packets'),
              bytes: tc('bytes'),
              share: tc('share'),
              names: protocolNames,
            }}
          />
        </section>
        <section>
          <h2>{t('ports')}</h2>
          <table data-testid="top-ports">
            <thead>
              <tr>
                <th scope="col">{t('port')}</th>
                <th scope="col">{tc('protocolCol')}</th>
                <th scope="col" className="num">
                  {tc('bytes')}
                </th>
                <th scope="col" className="num">
                  {tc('packets')}
                </th>
                <th scope="col" className="num">
                  {t('connections')}
                </th>
              </tr>
            </thead>
            <tbody>
              {ports.items.map((p) => (
                <tr key={`${p.protocol}/${p.port}`} data-port={p.port}>
                  <th scope="row">
                    {formatPlain(locale, p.port)}{' '}
                    {p.abnormal ? <span className="badge abnormal">{t('abnormal')}</span> : null}
                  </th>
                  <td>{protocolNames[p.protocol] ?? p.protocol}</td>
                  <td className="num">{formatCount(locale, p.bytes)}</td>
                  <td className="num">{formatCount(locale, p.packets)}</td>
                  <td className="num">{formatCount(locale, p.connections)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {ports.items.length === 0 ? <p className="muted">{t('none')}</p> : null}
        </section>
        <section>
          <h2>{t('talkers')}</h2>
          <table data-testid="top-talkers">
            <thead>
              <tr>
                <th scope="col">{t('src')}</th>
                <th scope="col">{t('dst')}</th>
                <th scope="col">{tc('protocolCol')}</th>
                <th scope="col" className="num">
                  {tc('bytes')}
                </th>
                <th scope="col" className="num">
                  {tc('packets')}
                </th>
              </tr>
            </thead>
            <tbody>
              {talkers.items.map((p) => (
                <tr key={`${p.src}|${p.dst}|${p.protocol}`}>
                  <td>{p.src}</td>
                  <td>{p.dst}</td>
                  <td>{protocolNames[p.protocol] ?? p.protocol}</td>
                  <td className="num">{formatCount(locale, p.bytes)}</td>
                  <td className="num">{formatCount(locale, p.packets)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {talkers.items.length === 0 ? <p className="muted">{t('none')}</p> : null}
        </section>
        <section>
          <h2>{t('tcp')}</h2>
          <table data-testid="connections">
            <tbody>
              {(
                [
                  ['openedClient', formatCount(locale, conns.openedClient)],
                  ['openedServer', formatCount(locale, conns.openedServer)],
                  ['failed', formatCount(locale, conns.failed)],
                  ['closed', formatCount(locale, conns.closed)],
                  ['activeMax', formatCount(locale, conns.activeMax)],
                  ['openedPerSecond', formatDecimal(locale, conns.openedPerSecond)],
                  ['peakOpenedPerSecond', formatDecimal(locale, conns.peakOpenedPerSecond)],
                  ['meanDuration', formatDurationMs(locale, conns.meanDurationMs)],
                  ['retransmits', formatCount(locale, conns.retransmits)],
                ] as const
              ).map(([k, v]) => (
                <tr key={k} data-metric={k}>
                  <th scope="row">{t(`conn.${k}`)}</th>
                  <td className="num">{v}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section>
          <h2>{t('drops')}</h2>
          <table data-testid="drops">
            <thead>
              <tr>
                <th scope="col">{t('reason')}</th>
                <th scope="col" className="num">
                  {t('count')}
                </th>
              </tr>
            </thead>
            <tbody>
              {drops.items.map((d) => (
                <tr key={d.reason} data-reason={d.reason}>
                  <td>{dropReasonName(d.reason)}</td>
                  <td className="num">{formatCount(locale, d.count)}</td>
                </tr>
              ))}
              <tr data-reason="flow_table_full">
                <td>{t('flowTableFull')}</td>
                <td className="num">{formatCount(locale, drops.agent.flowTableFull)}</td>
              </tr>
              <tr data-reason="records_dropped">
                <td>{t('recordsDropped')}</td>
                <td className="num">{formatCount(locale, drops.agent.recordsDropped)}</td>
              </tr>
            </tbody>
          </table>
        </section>
      </div>
    </>
  );
}

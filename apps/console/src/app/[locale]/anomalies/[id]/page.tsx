import { getTimeZone, getTranslations, setRequestLocale } from 'next-intl/server';
import { notFound } from 'next/navigation';
import { ApiStatusError, isApiError, Schemas } from '../../../../api/client';
import { currentUser, serverApi } from '../../../../api/server-api';
import { RateChart } from '../../../../charts/RateChart';
import { gaps, rateLines } from '../../../../charts/series-data';
import { AnomalyActions } from '../../../../components/AnomalyActions';
import { LiveRefresh } from '../../../../live/LiveRefresh';
import { ApiProblem } from '../../../../components/ApiProblem';
import { formatDateTime, formatDecimal, formatPlain } from '../../../../format/units';
import { Link } from '../../../../i18n/navigation';
import { pageLocale } from '../../../../i18n/page-locale';
import { allowedSteps, ANOMALY_STATUSES } from '../../../../model/anomaly-names';
import { first, SearchParams } from '../../../../view-state/range';
import { mayCall } from '../../../../model/roles';

export const dynamic = 'force-dynamic';

const ID = /^[1-9][0-9]{0,17}$/;
/** How much traffic the chart shows on each side of the anomaly. */
const AROUND_MS = 15 * 60_000;

const IDENTIFIERS = new Set(['port', 'lastSequence']);

type Figures = Record<string, number | string | boolean>;
interface EvidenceWindow {
  start: string;
  end: string;
  sequence: number;
}
interface Evidence {
  figures?: Figures;
  first?: Figures;
  peak?: Record<string, number>;
  threshold?: Record<string, number>;
  windows?: EvidenceWindow[];
}

export default async function AnomalyPage({
  params,
  searchParams,
}: {
  params: Promise<{ locale: string; id: string }>;
  searchParams: Promise<SearchParams>;
}) {
  const { id } = await params;
  const done = first(await searchParams, 'done');
  const locale = await pageLocale(params);
  setRequestLocale(locale);
  if (!ID.test(id)) notFound();
  const t = await getTranslations({ locale, namespace: 'anomalies' });
  const th = await getTranslations({ locale, namespace: 'host' });
  const tc = await getTranslations({ locale, namespace: 'common' });
  const timeZone = await getTimeZone();
  const { client, call } = await serverApi(locale, `/${locale}/anomalies/${id}`);
  const me = await currentUser();
  const seesTraffic = mayCall(me?.role, 'GET /api/v1/traffic/series');

  async function load() {
    let a: Schemas['AnomalyView'];
    try {
      a = await call('/api/v1/anomalies/{id}', () =>
        client.GET('/api/v1/anomalies/{id}', { params: { path: { id } } }),
      );
    } catch (err) {
      if (err instanceof ApiStatusError && err.status === 404) notFound();
      throw err;
    }
    const from = Date.parse(a.firstSeen) - AROUND_MS;
    const to = Math.min(Date.now(), Date.parse(a.lastSeen) + AROUND_MS);
    const series = seesTraffic
      ? await call('/api/v1/traffic/series', () =>
          client.GET('/api/v1/traffic/series', {
            params: {
              query: {
                agentId: a.agentId,
                from: new Date(from).toISOString(),
                to: new Date(to).toISOString(),
                groupBy: 'direction',
              },
            },
          }),
        )
      : null;
    return { a, series, from, to };
  }
  let data: Awaited<ReturnType<typeof load>>;
  try {
    data = await load();
  } catch (err) {
    if (!isApiError(err)) throw err;
    return <ApiProblem error={err} locale={locale} />;
  }
  const { a, series, from, to } = data;
  const ev = a.evidence as Evidence;
  const typeName = t.has(`typeName.${a.type}` as 'typeName.port_scan')
    ? t(`typeName.${a.type}` as 'typeName.port_scan')
    : a.type;
  const figureName = (k: string) =>
    t.has(`figure.${k}` as 'figure.port') ? t(`figure.${k}` as 'figure.port') : k;
  // Identifiers (ports, sequences) ungrouped; every other number in the locale's format.
  const value = (k: string, v: unknown) =>
    v === undefined || v === null
      ? '—'
      : typeof v === 'number'
        ? IDENTIFIERS.has(k)
          ? formatPlain(locale, v)
          : formatDecimal(locale, v)
        : String(v);
  const figureKeys = [
    ...new Set([...Object.keys(ev.figures ?? {}), ...Object.keys(ev.first ?? {})]),
  ];
  const windows = ev.windows ?? [];
  const when = (v: string | null | undefined) => (v ? formatDateTime(locale, timeZone, v) : '—');
  const canHandle = mayCall(me?.role, 'POST /api/v1/anomalies/{id}/acknowledge');

  return (
    <>
      <p>
        <Link href="/anomalies">{t('detail.back')}</Link>
      </p>
      <h1>
        {t('detail.title', { type: typeName, host: a.hostname ?? a.agentId })}{' '}
        <span className={`badge sev-${a.severity}`} data-testid="anomaly-severity">
          {t(`severityName.${a.severity}` as 'severityName.low')}
        </span>{' '}
        <span
          className={`badge st-${a.status}`}
          data-testid="anomaly-status"
          data-status={a.status}
        >
          {t(`statusName.${a.status}` as 'statusName.open')}
        </span>
      </h1>
      <LiveRefresh room={`host:${a.agentId}`} on={['anomaly']} />
      <section className="cards" aria-label={t('detail.facts')}>
        <div className="card">
          <div className="label">{t('col.host')}</div>
          <div className="value">
            {seesTraffic ? (
              <Link href={`/hosts/${a.agentId}`}>{a.hostname ?? a.agentId}</Link>
            ) : (
              (a.hostname ?? a.agentId)
            )}
          </div>
        </div>
        <div className="card">
          <div className="label">{t('detail.firstSeen')}</div>
          <div className="sub" data-testid="anomaly-first-seen">
            {when(a.firstSeen)}
          </div>
          <div className="label">{t('detail.lastSeen')}</div>
          <div className="sub" data-testid="anomaly-last-seen">
            {when(a.lastSeen)}
          </div>
        </div>
        <div className="card">
          <div className="label">{t('detail.windows')}</div>
          <div className="value" data-testid="anomaly-windows">
            {formatDecimal(locale, a.windows)}
          </div>
        </div>
      </section>
      <h2>{t('detail.summary')}</h2>
      <p data-testid="anomaly-summary">{a.summary}</p>

      <h2>{t('detail.handling')}</h2>
      <ul data-testid="anomaly-handling">
        {a.acknowledgedBy ? (
          <li>
            {t('detail.acknowledged', { who: a.acknowledgedBy, time: when(a.acknowledgedAt) })}
          </li>
        ) : null}
        {a.suppressedBy ? (
          <li>
            {t('detail.suppressed', {
              who: a.suppressedBy,
              until: when(a.suppressedUntil),
              reason: a.suppressReason ?? '—',
            })}
          </li>
        ) : null}
        {a.resolvedBy ? (
          <li>{t('detail.resolved', { who: a.resolvedBy, time: when(a.resolvedAt) })}</li>
        ) : null}
        {!a.acknowledgedBy && !a.suppressedBy && !a.resolvedBy ? (
          <li className="muted">{t('detail.notHandled')}</li>
        ) : null}
      </ul>
      {canHandle ? (
        <AnomalyActions
          id={a.id}
          steps={allowedSteps(a.status)}
          done={(ANOMALY_STATUSES as readonly string[]).includes(done ?? '') ? done : undefined}
        />
      ) : (
        <p className="muted" data-testid="anomaly-read-only">
          {t('actions.readOnly')}
        </p>
      )}

      <h2>{t('detail.evidence')}</h2>
      <div className="grid2">
        <table data-testid="evidence-figures">
          <thead>
            <tr>
              <th scope="col">{t('detail.figureCol')}</th>
              <th scope="col" className="num">
                {t('detail.latest')}
              </th>
              <th scope="col" className="num">
                {t('detail.first')}
              </th>
              <th scope="col" className="num">
                {t('detail.peak')}
              </th>
            </tr>
          </thead>
          <tbody>
            {figureKeys.map((k) => (
              <tr key={k} data-figure={k}>
                <th scope="row">{figureName(k)}</th>
                <td className="num">{value(k, ev.figures?.[k])}</td>
                <td className="num">{value(k, ev.first?.[k])}</td>
                <td className="num">{value(k, ev.peak?.[k])}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <table data-testid="evidence-thresholds">
          <thead>
            <tr>
              <th scope="col">{t('detail.thresholds')}</th>
              <th scope="col" className="num">
                {t('detail.value')}
              </th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(ev.threshold ?? {}).map(([k, v]) => (
              <tr key={k} data-threshold={k}>
                <th scope="row">{figureName(k)}</th>
                <td className="num">{value(k, v)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>{t('detail.windowsBehind')}</h2>
      <table data-testid="evidence-windows">
        <thead>
          <tr>
            <th scope="col" className="num">
              {t('detail.sequence')}
            </th>
            <th scope="col">{t('detail.windowStart')}</th>
            <th scope="col">{t('detail.windowEnd')}</th>
          </tr>
        </thead>
        <tbody>
          {windows.map((w) => (
            <tr key={`${w.sequence}|${w.start}`} data-sequence={w.sequence}>
              <td className="num">{formatPlain(locale, w.sequence)}</td>
              <td>{when(w.start)}</td>
              <td>{when(w.end)}</td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2>{t('detail.chart')}</h2>
      {series ? (
        <RateChart
          lines={rateLines(series.points, series.stepSeconds, ['ingress', 'egress'])}
          gaps={gaps(series.points, series.stepSeconds, from, to)}
          incidents={[{ from: Date.parse(a.firstSeen), to: Date.parse(a.lastSeen) }]}
          from={from}
          to={to}
          locale={locale}
          timeZone={timeZone}
          names={{ ingress: tc('direction.ingress'), egress: tc('direction.egress') }}
          words={{
            title: t('detail.chart'),
            axis: th('axis', { zone: timeZone }),
            gap: th('gap'),
            peak: th('peakMark'),
            incident: t('detail.incident'),
          }}
        />
      ) : (
        <p className="muted">{t('detail.chartNoAccess')}</p>
      )}
    </>
  );
}

import { getTimeZone, getTranslations, setRequestLocale } from 'next-intl/server';
import { isApiError, specInteger } from '../../../api/client';
import { currentUser, serverApi } from '../../../api/server-api';
import { ApiProblem } from '../../../components/ApiProblem';
import { HostSelect, RangeHidden } from '../../../components/FormFields';
import { LiveRefresh } from '../../../live/LiveRefresh';
import { RangeBar } from '../../../components/RangeBar';
import { formatCount, formatDateTime } from '../../../format/units';
import { Link } from '../../../i18n/navigation';
import { pageLocale } from '../../../i18n/page-locale';
import {
  ANOMALY_STATUSES,
  ANOMALY_TYPES,
  PAGE_SIZE,
  parseAnomalyFilters,
  SEVERITIES,
} from '../../../model/anomaly-names';
import { mayCall } from '../../../model/roles';
import { parseRange, SearchParams, toSearch } from '../../../view-state/range';

export const dynamic = 'force-dynamic';

export default async function AnomaliesPage({
  params,
  searchParams,
}: {
  params: Promise<{ locale: string }>;
  searchParams: Promise<SearchParams>;
}) {
  const locale = await pageLocale(params);
  setRequestLocale(locale);
  const sp = await searchParams;
  const t = await getTranslations({ locale, namespace: 'anomalies' });
  const timeZone = await getTimeZone();
  const f = parseAnomalyFilters(sp);
  const range = parseRange(sp, new Date(), '7d');
  const { client, call } = await serverApi(locale, `/${locale}/anomalies${toSearch(sp)}`);
  const me = await currentUser();
  const from = range.from.toISOString();
  const to = range.to.toISOString();

  async function load() {
    const page = await call('/api/v1/anomalies', () =>
      client.GET('/api/v1/anomalies', {
        params: {
          query: {
            agentId: f.agentId,
            type: f.type,
            severity: f.severity,
            status: f.status,
            from,
            to,
            limit: PAGE_SIZE,
            offset: f.offset,
          },
        },
      }),
    );
    // The host choices, for roles that may list hosts (the others filter by the URL only).
    const hosts = mayCall(me?.role, 'GET /api/v1/hosts')
      ? (
          await call('/api/v1/hosts', () =>
            client.GET('/api/v1/hosts', { params: { query: { limit: specInteger(500) } } }),
          )
        ).items
      : [];
    return { page, hosts };
  }
  let data: Awaited<ReturnType<typeof load>>;
  try {
    data = await load();
  } catch (err) {
    if (!isApiError(err)) throw err;
    return <ApiProblem error={err} locale={locale} />;
  }
  const { page, hosts } = data;
  const keep = (offset: number) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(sp)) {
      if (k !== 'offset' && typeof v === 'string') q.set(k, v);
    }
    if (offset > 0) q.set('offset', String(offset));
    const s = q.toString();
    return `/anomalies${s ? `?${s}` : ''}`;
  };
  const shownTo = page.offset + page.items.length;

  return (
    <>
      <h1>{t('title')}</h1>
      <form className="toolbar" method="get" role="search" aria-label={t('filter')}>
        {hosts.length ? (
          <>
            <label htmlFor="agentId">{t('host')}</label>
            <HostSelect
              id="agentId"
              hosts={hosts}
              defaultValue={f.agentId}
              allLabel={t('allHosts')}
            />
          </>
        ) : f.agentId ? (
          <input type="hidden" name="agentId" value={f.agentId} />
        ) : null}
        <label htmlFor="type">{t('type')}</label>
        <select id="type" name="type" defaultValue={f.type ?? ''}>
          <option value="">{t('allTypes')}</option>
          {ANOMALY_TYPES.map((x) => (
            <option key={x} value={x}>
              {t(`typeName.${x}`)}
            </option>
          ))}
        </select>
        <label htmlFor="severity">{t('severity')}</label>
        <select id="severity" name="severity" defaultValue={f.severity ?? ''}>
          <option value="">{t('allSeverities')}</option>
          {SEVERITIES.map((x) => (
            <option key={x} value={x}>
              {t(`severityName.${x}`)}
            </option>
          ))}
        </select>
        <label htmlFor="status">{t('status')}</label>
        <select id="status" name="status" defaultValue={f.status ?? ''}>
          <option value="">{t('allStatuses')}</option>
          {ANOMALY_STATUSES.map((x) => (
            <option key={x} value={x}>
              {t(`statusName.${x}`)}
            </option>
          ))}
        </select>
        <RangeHidden range={range} />
        <button type="submit">{t('apply')}</button>
        <Link href="/anomalies">{t('reset')}</Link>
      </form>
      <LiveRefresh room={f.agentId ? `host:${f.agentId}` : 'fleet'} on={['anomaly']} />
      <RangeBar path="/anomalies" params={sp} range={range} locale={locale} timeZone={timeZone} />
      <p className="muted" data-testid="anomaly-count">
        {t('count', {
          total: formatCount(locale, page.total),
          from: formatCount(locale, page.items.length ? page.offset + 1 : 0),
          to: formatCount(locale, shownTo),
        })}
      </p>
      {page.items.length ? (
        <table data-testid="anomaly-list" aria-label={t('table')}>
          <thead>
            <tr>
              <th scope="col">{t('col.lastSeen')}</th>
              <th scope="col">{t('col.type')}</th>
              <th scope="col">{t('col.severity')}</th>
              <th scope="col">{t('col.status')}</th>
              <th scope="col">{t('col.host')}</th>
              <th scope="col" className="num">
                {t('col.windows')}
              </th>
              <th scope="col">{t('col.firstSeen')}</th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((a) => (
              <tr key={a.id} data-anomaly-id={a.id} data-type={a.type}>
                <td>{formatDateTime(locale, timeZone, a.lastSeen)}</td>
                <th scope="row">
                  <Link href={`/anomalies/${a.id}`}>
                    {t.has(`typeName.${a.type}` as 'typeName.port_scan')
                      ? t(`typeName.${a.type}` as 'typeName.port_scan')
                      : a.type}
                  </Link>
                </th>
                <td>
                  <span className={`badge sev-${a.severity}`} data-testid="severity">
                    {t(`severityName.${a.severity}` as 'severityName.low')}
                  </span>
                </td>
                <td data-testid="status">
                  <span className={`badge st-${a.status}`}>
                    {t(`statusName.${a.status}` as 'statusName.open')}
                  </span>
                </td>
                <td>{a.hostname ?? a.agentId}</td>
                <td className="num">{formatCount(locale, a.windows)}</td>
                <td>{formatDateTime(locale, timeZone, a.firstSeen)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="banner notice" data-testid="anomaly-none">
          {t('none')}
        </p>
      )}
      <nav className="toolbar" aria-label={t('table')}>
        {page.offset > 0 ? (
          <Link href={keep(Math.max(0, page.offset - PAGE_SIZE))}>{t('previousPage')}</Link>
        ) : null}
        {shownTo < page.total ? <Link href={keep(shownTo)}>{t('nextPage')}</Link> : null}
      </nav>
    </>
  );
}

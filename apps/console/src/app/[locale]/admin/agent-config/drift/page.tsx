import { getTimeZone, getTranslations, setRequestLocale } from 'next-intl/server';
import { ApiStatusError, isApiError, Schemas, specInteger } from '../../../../../api/client';
import { currentUser, serverApi } from '../../../../../api/server-api';
import { AgentConfigNav } from '../../../../../components/AgentConfigNav';
import { ApiProblem } from '../../../../../components/ApiProblem';
import { CsvExport } from '../../../../../components/CsvExport';
import { formatCount, formatDateTime } from '../../../../../format/units';
import { Link } from '../../../../../i18n/navigation';
import { pageLocale } from '../../../../../i18n/page-locale';
import type { DriftItem } from '../../../../../model/agent-config';
import { mayCall } from '../../../../../model/roles';

export const dynamic = 'force-dynamic';

const PAGE = 200;

/**
 * Every host's configuration drift: the version the server wants it to run against the one it
 * runs, and what it answered last. `outOfSync=true` and `offset=` in the URL.
 */
export default async function AgentConfigDriftPage({
  params,
  searchParams,
}: {
  params: Promise<{ locale: string }>;
  searchParams: Promise<{ outOfSync?: string; offset?: string }>;
}) {
  const locale = await pageLocale(params);
  setRequestLocale(locale);
  const t = await getTranslations({ locale, namespace: 'admin.agentConfig' });
  const timeZone = await getTimeZone();
  const me = await currentUser();
  if (!mayCall(me?.role, 'GET /api/v1/agent-config/drift')) {
    return (
      <ApiProblem
        error={new ApiStatusError(403, '/api/v1/agent-config/drift', null)}
        locale={locale}
      />
    );
  }
  const sp = await searchParams;
  const onlyOut = sp.outOfSync === 'true';
  const offset = /^\d{1,6}$/.test(sp.offset ?? '') ? Number(sp.offset) : 0;
  const query: Record<string, string> = {};
  if (onlyOut) query.outOfSync = 'true';
  if (offset) query.offset = String(offset);
  const { client, call } = await serverApi(
    locale,
    `/${locale}/admin/agent-config/drift${Object.keys(query).length ? `?${new URLSearchParams(query)}` : ''}`,
  );
  let page: Schemas['DriftPageView'];
  try {
    page = await call('/api/v1/agent-config/drift', () =>
      client.GET('/api/v1/agent-config/drift', {
        params: {
          query: {
            ...(onlyOut ? { outOfSync: 'true' as const } : {}),
            limit: specInteger(PAGE),
            offset: specInteger(offset),
          },
        },
      }),
    );
  } catch (err) {
    if (!isApiError(err)) throw err;
    return <ApiProblem error={err} locale={locale} />;
  }
  const result = (h: DriftItem) =>
    !h.lastApplied
      ? t('drift.noAnswer')
      : h.lastApplied.ok
        ? t('drift.applied', { version: formatCount(locale, h.lastApplied.version) })
        : t('drift.refused', {
            version: formatCount(locale, h.lastApplied.version),
            error: h.lastApplied.error,
          });
  const cols = [
    'agentId',
    'hostname',
    'desiredVersion',
    'runningVersion',
    'lastResult',
    'lastAppliedAt',
    'inSync',
  ];
  const rows = page.items.map((h) => [
    h.agentId,
    h.hostname,
    String(h.desiredVersion),
    String(h.runningVersion),
    result(h),
    h.lastApplied ? formatDateTime(locale, timeZone, h.lastApplied.at) : '',
    h.inSync ? t('drift.inSync') : t('drift.outOfSync'),
  ]);
  const pageLink = (o: number) => ({
    pathname: '/admin/agent-config/drift',
    query: { ...(onlyOut ? { outOfSync: 'true' } : {}), ...(o ? { offset: String(o) } : {}) },
  });
  return (
    <>
      <h1>{t('drift.title')}</h1>
      <AgentConfigNav current="drift" />
      <p className="muted">{t('drift.intro')}</p>
      <form className="toolbar" method="get" aria-label={t('drift.filter')}>
        <input
          type="checkbox"
          id="drift-out-of-sync"
          name="outOfSync"
          value="true"
          defaultChecked={onlyOut}
        />
        <label htmlFor="drift-out-of-sync">{t('drift.onlyOutOfSync')}</label>
        <button type="submit" data-testid="drift-filter-submit">
          {t('drift.apply')}
        </button>
      </form>
      <p data-testid="drift-summary">
        {t('drift.summary', {
          out: page.outOfSync,
          shown: page.total,
        })}
      </p>
      {page.items.length ? (
        <table data-testid="drift-table" aria-label={t('drift.title')}>
          <thead>
            <tr>
              <th scope="col">{t('drift.col.host')}</th>
              <th scope="col" className="num">
                {t('drift.col.desired')}
              </th>
              <th scope="col" className="num">
                {t('drift.col.running')}
              </th>
              <th scope="col">{t('drift.col.last')}</th>
              <th scope="col">{t('drift.col.at')}</th>
              <th scope="col">{t('drift.col.inSync')}</th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((h) => (
              <tr key={h.agentId} data-agent-id={h.agentId} data-in-sync={String(h.inSync)}>
                <th scope="row">
                  <Link href={`/admin/agent-config/hosts/${h.agentId}`}>{h.hostname}</Link>
                </th>
                <td className="num" data-testid="drift-desired">
                  {formatCount(locale, h.desiredVersion)}
                </td>
                <td className="num" data-testid="drift-running">
                  {formatCount(locale, h.runningVersion)}
                </td>
                <td data-testid="drift-last">{result(h)}</td>
                <td>{h.lastApplied ? formatDateTime(locale, timeZone, h.lastApplied.at) : ''}</td>
                <td data-testid="drift-in-sync">
                  <span className={`badge ${h.inSync ? 'online' : 'offline'}`}>
                    {h.inSync ? t('drift.inSync') : t('drift.outOfSync')}
                  </span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="banner notice" data-testid="drift-none">
          {t('drift.none')}
        </p>
      )}
      <CsvExport
        filename="tidewatch-agent-config-drift.csv"
        columns={cols}
        rows={rows}
        testId="drift-csv"
      />
      {offset > 0 || offset + page.items.length < page.total ? (
        <nav className="toolbar" aria-label={t('drift.pages')}>
          {offset > 0 ? (
            <Link href={pageLink(Math.max(0, offset - PAGE))}>{t('drift.previous')}</Link>
          ) : null}
          {offset + page.items.length < page.total ? (
            <Link href={pageLink(offset + PAGE)}>{t('drift.next')}</Link>
          ) : null}
        </nav>
      ) : null}
    </>
  );
}

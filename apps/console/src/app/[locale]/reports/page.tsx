import { getTimeZone, getTranslations, setRequestLocale } from 'next-intl/server';
import { ApiStatusError, isApiError, specInteger } from '../../../api/client';
import { currentUser, serverApi } from '../../../api/server-api';
import { ApiProblem } from '../../../components/ApiProblem';
import { CsvExport } from '../../../components/CsvExport';
import { HostSelect, RangeHidden } from '../../../components/FormFields';
import { RangeBar } from '../../../components/RangeBar';
import { DeleteSchedule, ScheduleForm, VerifyReport } from '../../../components/ReportSchedules';
import { formatBytes, formatCount, formatDateTime } from '../../../format/units';
import { pageLocale } from '../../../i18n/page-locale';
import { validSelector } from '../../../model/host-state';
import {
  REPORT_FORMATS,
  REPORT_LANGS,
  ReportLang,
  reportHref,
  scheduleTime,
  storedReportHref,
  utcOffsetMinutes,
} from '../../../model/reports';
import { mayCall } from '../../../model/roles';
import { first, parseRange, SearchParams, toSearch } from '../../../view-state/range';

export const dynamic = 'force-dynamic';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Reports: generate one for a period and a scope (fleet, a host, a label selector) and download
 * it as PDF, CSV or JSON (operator, viewer); the kept (scheduled) reports; the daily schedules
 * (sysadmin). Each part is shown to the roles the server admits to its routes.
 */
export default async function ReportsPage({
  params,
  searchParams,
}: {
  params: Promise<{ locale: string }>;
  searchParams: Promise<SearchParams>;
}) {
  const locale = await pageLocale(params);
  setRequestLocale(locale);
  const sp = await searchParams;
  const t = await getTranslations({ locale, namespace: 'reports' });
  const timeZone = await getTimeZone();
  const range = parseRange(sp, new Date(), '24h');
  const { client, call } = await serverApi(locale, `/${locale}/reports${toSearch(sp)}`);
  const me = await currentUser();
  const mayGenerate = mayCall(me?.role, 'GET /api/v1/reports');
  const mayList = mayCall(me?.role, 'GET /api/v1/reports/stored');
  const maySchedule = mayCall(me?.role, 'GET /api/v1/reports/schedules');
  const mayVerify = mayCall(me?.role, 'GET /api/v1/reports/stored/{id}/verify');
  if (!mayGenerate && !mayList && !maySchedule) {
    return <ApiProblem error={new ApiStatusError(403, '/api/v1/reports', null)} locale={locale} />;
  }
  const agentId = UUID.test(first(sp, 'agentId') ?? '') ? first(sp, 'agentId') : undefined;
  const labels = agentId ? undefined : validSelector(first(sp, 'labels'));
  const lang: ReportLang =
    REPORT_LANGS.find((l) => l === first(sp, 'lang')) ?? (locale as ReportLang);

  async function load() {
    const [hosts, stored, schedules] = await Promise.all([
      mayCall(me?.role, 'GET /api/v1/hosts')
        ? call('/api/v1/hosts', () =>
            client.GET('/api/v1/hosts', { params: { query: { limit: specInteger(500) } } }),
          ).then((p) => p.items)
        : Promise.resolve([]),
      mayList
        ? call('/api/v1/reports/stored', () =>
            client.GET('/api/v1/reports/stored', { params: { query: { limit: specInteger(50) } } }),
          )
        : Promise.resolve(null),
      maySchedule
        ? call('/api/v1/reports/schedules', () => client.GET('/api/v1/reports/schedules'))
        : Promise.resolve(null),
    ]);
    return { hosts, stored, schedules };
  }
  let data: Awaited<ReturnType<typeof load>>;
  try {
    data = await load();
  } catch (err) {
    if (!isApiError(err)) throw err;
    return <ApiProblem error={err} locale={locale} />;
  }
  const { hosts, stored, schedules } = data;
  const hostName = new Map(hosts.map((h) => [h.agentId, h.hostname]));
  const scopeText = (s: { agentId?: string | null; labels?: string | null }) =>
    s.agentId
      ? t('scope.oneHost', { host: hostName.get(s.agentId) ?? s.agentId })
      : s.labels
        ? t('scope.selector', { labels: s.labels })
        : t('scope.fleet');
  const choice = { from: range.from, to: range.to, agentId, labels, lang };
  const storedCols = [
    'id',
    'created',
    'schedule',
    'from',
    'to',
    'scope',
    'format',
    'lang',
    'bytes',
    'digest',
  ];
  const storedRows = (stored?.items ?? []).map((r) => [
    r.id,
    formatDateTime(locale, timeZone, r.createdAt),
    r.scheduleName ?? '',
    formatDateTime(locale, timeZone, r.from),
    formatDateTime(locale, timeZone, r.to),
    scopeText(r.scope),
    r.format,
    r.lang,
    String(r.bytes),
    `${r.digestAlg}:${r.digest}`,
  ]);

  return (
    <>
      <h1>{t('title')}</h1>
      {mayGenerate ? (
        <section aria-labelledby="report-generate" data-testid="report-generate">
          <h2 id="report-generate">{t('generate')}</h2>
          <form className="toolbar" method="get" aria-label={t('scope.label')}>
            <label htmlFor="agentId">{t('scope.host')}</label>
            <HostSelect
              id="agentId"
              hosts={hosts}
              defaultValue={agentId}
              allLabel={t('scope.fleet')}
            />
            <label htmlFor="labels">{t('scope.labels')}</label>
            <input
              id="labels"
              name="labels"
              defaultValue={labels ?? ''}
              placeholder="env=prod"
              size={16}
            />
            <label htmlFor="lang">{t('lang')}</label>
            <select id="lang" name="lang" defaultValue={lang}>
              {REPORT_LANGS.map((l) => (
                <option key={l} value={l}>
                  {t(`langName.${l}`)}
                </option>
              ))}
            </select>
            <RangeHidden range={range} />
            <button type="submit">{t('apply')}</button>
          </form>
          <RangeBar path="/reports" params={sp} range={range} locale={locale} timeZone={timeZone} />
          <p data-testid="report-scope">{scopeText(choice)}</p>
          <nav className="toolbar" aria-label={t('download')}>
            {REPORT_FORMATS.map((f) => (
              <a key={f} href={reportHref(choice, f)} download data-testid={`report-download-${f}`}>
                {t('downloadAs', { format: t(`format.${f}`) })}
              </a>
            ))}
          </nav>
          <p className="muted">{t('generateNote')}</p>
        </section>
      ) : null}
      {stored ? (
        <section aria-labelledby="report-stored">
          <h2 id="report-stored">{t('stored.title')}</h2>
          <p className="muted" data-testid="report-stored-count">
            {t('stored.count', {
              total: formatCount(locale, stored.total),
              shown: formatCount(locale, stored.items.length),
            })}
          </p>
          {stored.items.length ? (
            <>
              <table data-testid="report-stored" aria-label={t('stored.title')}>
                <thead>
                  <tr>
                    <th scope="col">{t('stored.col.created')}</th>
                    <th scope="col">{t('stored.col.schedule')}</th>
                    <th scope="col">{t('stored.col.period')}</th>
                    <th scope="col">{t('stored.col.scope')}</th>
                    <th scope="col">{t('stored.col.format')}</th>
                    <th scope="col" className="num">
                      {t('stored.col.bytes')}
                    </th>
                    <th scope="col">{t('stored.col.digest')}</th>
                    {mayVerify ? <th scope="col">{t('stored.col.verify')}</th> : null}
                  </tr>
                </thead>
                <tbody>
                  {stored.items.map((r) => (
                    <tr key={r.id} data-report-id={r.id} data-format={r.format}>
                      <td>{formatDateTime(locale, timeZone, r.createdAt)}</td>
                      <td>{r.scheduleName ?? '—'}</td>
                      <td>
                        {t('stored.period', {
                          from: formatDateTime(locale, timeZone, r.from),
                          to: formatDateTime(locale, timeZone, r.to),
                        })}
                      </td>
                      <td>{scopeText(r.scope)}</td>
                      <td>
                        <a
                          href={storedReportHref(r.id)}
                          download
                          data-testid="report-stored-download"
                        >
                          {t('downloadAs', { format: t(`format.${r.format}`) })}
                        </a>{' '}
                        ({t(`langName.${r.lang}`)})
                      </td>
                      <td className="num">{formatBytes(locale, r.bytes)}</td>
                      <td>
                        <code title={`${r.digestAlg}:${r.digest}`}>
                          {r.digestAlg}:{r.digest.slice(0, 12)}…
                        </code>
                      </td>
                      {mayVerify ? (
                        <td>
                          <VerifyReport id={r.id} />
                        </td>
                      ) : null}
                    </tr>
                  ))}
                </tbody>
              </table>
              <CsvExport
                filename="tidewatch-reports.csv"
                columns={storedCols}
                rows={storedRows}
                testId="report-stored-csv"
              />
            </>
          ) : (
            <p className="banner notice" data-testid="report-stored-none">
              {t('stored.none')}
            </p>
          )}
        </section>
      ) : null}
      {schedules ? (
        <section aria-labelledby="report-schedules">
          <h2 id="report-schedules">{t('schedules.title')}</h2>
          {schedules.items.length ? (
            <table data-testid="report-schedules" aria-label={t('schedules.title')}>
              <thead>
                <tr>
                  <th scope="col">{t('schedules.name')}</th>
                  <th scope="col">{t('stored.col.scope')}</th>
                  <th scope="col">{t('schedules.formats')}</th>
                  <th scope="col">{t('lang')}</th>
                  <th scope="col">{t('schedules.when')}</th>
                  <th scope="col">{t('schedules.state')}</th>
                  <th scope="col">{t('schedules.updated')}</th>
                  <th scope="col">{t('schedules.actions')}</th>
                </tr>
              </thead>
              <tbody>
                {schedules.items.map((s) => (
                  <tr key={s.name} data-schedule={s.name}>
                    <th scope="row">{s.name}</th>
                    <td>{scopeText(s)}</td>
                    <td>{s.formats.map((f) => t(`format.${f}`)).join(', ')}</td>
                    <td>{t(`langName.${s.lang}`)}</td>
                    <td>
                      {t('schedules.daily', { time: scheduleTime(s.hour, s.utcOffsetMinutes) })}
                    </td>
                    <td>{s.enabled ? t('schedules.on') : t('schedules.off')}</td>
                    <td>
                      {formatDateTime(locale, timeZone, s.updatedAt)}
                      {s.updatedBy ? ` (${s.updatedBy})` : ''}
                    </td>
                    <td>
                      {mayCall(me?.role, 'DELETE /api/v1/reports/schedules/{name}') ? (
                        <DeleteSchedule name={s.name} />
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p className="banner notice" data-testid="report-schedules-none">
              {t('schedules.none')}
            </p>
          )}
          {mayCall(me?.role, 'PUT /api/v1/reports/schedules/{name}') ? (
            <>
              <h3>{t('schedules.create')}</h3>
              <ScheduleForm
                hosts={hosts.map((h) => ({ agentId: h.agentId, hostname: h.hostname }))}
                defaultLang={locale as ReportLang}
                defaultOffset={utcOffsetMinutes(timeZone, new Date())}
              />
            </>
          ) : null}
        </section>
      ) : null}
    </>
  );
}

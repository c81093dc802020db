import { getTimeZone, getTranslations, setRequestLocale } from 'next-intl/server';
import { ApiStatusError, isApiError, specInteger } from '../../../api/client';
import { currentUser, serverApi } from '../../../api/server-api';
import { ApiProblem } from '../../../components/ApiProblem';
import { RangeHidden } from '../../../components/FormFields';
import { RangeBar } from '../../../components/RangeBar';
import { formatCount, formatDateTime } from '../../../format/units';
import { Link } from '../../../i18n/navigation';
import { pageLocale } from '../../../i18n/page-locale';
import { mayCall } from '../../../model/roles';
import { first, parseRange, SearchParams, toSearch } from '../../../view-state/range';

export const dynamic = 'force-dynamic';

const OUTCOMES = ['success', 'failure', 'denied'] as const;
const ACTION = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?$/;
const SEQUENCE = /^[1-9]\d{0,18}$/;
const PAGE = 100;

/** The audit trail (auditadmin): search with filters in the URL, chain verification, CSV export. */
export default async function AuditPage({
  params,
  searchParams,
}: {
  params: Promise<{ locale: string }>;
  searchParams: Promise<SearchParams>;
}) {
  const locale = await pageLocale(params);
  setRequestLocale(locale);
  const sp = await searchParams;
  const t = await getTranslations({ locale, namespace: 'audit' });
  const timeZone = await getTimeZone();
  const range = parseRange(sp, new Date(), '24h');
  const { client, call } = await serverApi(locale, `/${locale}/audit${toSearch(sp)}`);
  const me = await currentUser();
  const text = (k: string, max: number) => {
    const v = first(sp, k)?.trim();
    return v && v.length <= max ? v : undefined;
  };
  const action = text('action', 100);
  const outcome = OUTCOMES.find((o) => o === first(sp, 'outcome'));
  const before = SEQUENCE.test(first(sp, 'before') ?? '') ? first(sp, 'before') : undefined;
  const filter = {
    actor: text('actor', 256),
    action: action && ACTION.test(action) ? action : undefined,
    target: text('target', 512),
    outcome,
    from: range.from.toISOString(),
    to: range.to.toISOString(),
  };
  if (!mayCall(me?.role, 'GET /api/v1/audit')) {
    return <ApiProblem error={new ApiStatusError(403, '/api/v1/audit', null)} locale={locale} />;
  }

  async function load() {
    const [page, verify] = await Promise.all([
      call('/api/v1/audit', () =>
        client.GET('/api/v1/audit', {
          params: { query: { ...filter, before, limit: specInteger(PAGE) } },
        }),
      ),
      call('/api/v1/audit/verify', () => client.GET('/api/v1/audit/verify')),
    ]);
    return { page, verify };
  }
  let data: Awaited<ReturnType<typeof load>>;
  try {
    data = await load();
  } catch (err) {
    if (!isApiError(err)) throw err;
    return <ApiProblem error={err} locale={locale} />;
  }
  const { page, verify } = data;
  const exportQuery = new URLSearchParams(
    Object.entries(filter).filter((e): e is [string, string] => typeof e[1] === 'string'),
  ).toString();
  const next = new URLSearchParams();
  for (const [k, v] of Object.entries(sp))
    if (k !== 'before' && typeof v === 'string') next.set(k, v);
  if (page.nextBefore) next.set('before', page.nextBefore);
  const checkpoint = verify.lastCheckpoint as { sequence?: string; time?: string } | null;

  return (
    <>
      <h1>{t('title')}</h1>
      <section
        className={`banner ${verify.ok ? 'notice ok' : 'error'}`}
        data-testid="audit-verify"
        data-ok={String(verify.ok)}
        role="status"
      >
        {verify.ok
          ? t('verifyOk', { checked: formatCount(locale, verify.checked) })
          : t('verifyBroken', {
              brokenAt: verify.brokenAt ?? '—',
              reason: verify.reason ?? '—',
            })}{' '}
        {checkpoint?.sequence
          ? t('checkpoint', {
              sequence: checkpoint.sequence,
              time: checkpoint.time ? formatDateTime(locale, timeZone, checkpoint.time) : '—',
            })
          : t('noCheckpoint')}
      </section>
      <form className="toolbar" method="get" role="search" aria-label={t('filter')}>
        <label htmlFor="actor">{t('col.actor')}</label>
        <input id="actor" name="actor" defaultValue={filter.actor ?? ''} size={14} />
        <label htmlFor="action">{t('col.action')}</label>
        <input
          id="action"
          name="action"
          defaultValue={filter.action ?? ''}
          placeholder="anomaly.*"
          size={16}
        />
        <label htmlFor="target">{t('col.target')}</label>
        <input id="target" name="target" defaultValue={filter.target ?? ''} size={18} />
        <label htmlFor="outcome">{t('col.outcome')}</label>
        <select id="outcome" name="outcome" defaultValue={outcome ?? ''}>
          <option value="">{t('allOutcomes')}</option>
          {OUTCOMES.map((o) => (
            <option key={o} value={o}>
              {t(`outcome.${o}`)}
            </option>
          ))}
        </select>
        <RangeHidden range={range} />
        <button type="submit">{t('apply')}</button>
        <a href={`/api/v1/audit/export?${exportQuery}`} data-testid="audit-export" download>
          {t('export')}
        </a>
      </form>
      <RangeBar path="/audit" params={sp} range={range} locale={locale} timeZone={timeZone} />
      {page.items.length ? (
        <table data-testid="audit-list" aria-label={t('title')}>
          <thead>
            <tr>
              <th scope="col" className="num">
                {t('col.sequence')}
              </th>
              <th scope="col">{t('col.time')}</th>
              <th scope="col">{t('col.actor')}</th>
              <th scope="col">{t('col.action')}</th>
              <th scope="col">{t('col.target')}</th>
              <th scope="col">{t('col.outcome')}</th>
              <th scope="col">{t('col.reason')}</th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((e) => (
              <tr key={e.sequence} data-sequence={e.sequence} data-action={e.action}>
                <td className="num">{e.sequence}</td>
                <td>{formatDateTime(locale, timeZone, e.time)}</td>
                <td>{e.actor ? `${e.actor}${e.actorRole ? ` (${e.actorRole})` : ''}` : '—'}</td>
                <td>
                  <code>{e.action}</code>
                </td>
                <td>{e.target ?? '—'}</td>
                <td data-testid="outcome">
                  {(OUTCOMES as readonly string[]).includes(e.outcome)
                    ? t(`outcome.${e.outcome as (typeof OUTCOMES)[number]}`)
                    : e.outcome}
                </td>
                <td>{e.reason ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="banner notice" data-testid="audit-none">
          {t('none')}
        </p>
      )}
      {page.nextBefore ? (
        <nav className="toolbar" aria-label={t('title')}>
          <Link href={`/audit?${next.toString()}`}>{t('older')}</Link>
        </nav>
      ) : null}
    </>
  );
}

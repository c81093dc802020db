import { getTimeZone, getTranslations, setRequestLocale } from 'next-intl/server';
import { ApiStatusError, isApiError } from '../../../../api/client';
import { currentUser, serverApi } from '../../../../api/server-api';
import { CreateEnrollmentForm, RevokeToken } from '../../../../components/AdminForms';
import { ApiProblem } from '../../../../components/ApiProblem';
import { CsvExport } from '../../../../components/CsvExport';
import { formatCount, formatDateTime } from '../../../../format/units';
import { pageLocale } from '../../../../i18n/page-locale';
import { EnrollmentToken, enrollmentState } from '../../../../model/admin';
import { mayCall } from '../../../../model/roles';

export const dynamic = 'force-dynamic';

/** Enrollment tokens for new agents (sysadmin): the list, a new token (shown once), revoke. */
export default async function EnrollmentTokensPage({
  params,
}: {
  params: Promise<{ locale: string }>;
}) {
  const locale = await pageLocale(params);
  setRequestLocale(locale);
  const t = await getTranslations({ locale, namespace: 'admin.enrollment' });
  const timeZone = await getTimeZone();
  const me = await currentUser();
  if (!mayCall(me?.role, 'GET /api/v1/enrollment-tokens')) {
    return (
      <ApiProblem
        error={new ApiStatusError(403, '/api/v1/enrollment-tokens', null)}
        locale={locale}
      />
    );
  }
  const { client, call } = await serverApi(locale, `/${locale}/admin/enrollment-tokens`);
  let tokens: EnrollmentToken[];
  try {
    tokens = (
      await call('/api/v1/enrollment-tokens', () => client.GET('/api/v1/enrollment-tokens'))
    ).items;
  } catch (err) {
    if (!isApiError(err)) throw err;
    return <ApiProblem error={err} locale={locale} />;
  }
  const now = new Date();
  const when = (v: string | null) => (v ? formatDateTime(locale, timeZone, v) : t('never'));
  const uses = (k: EnrollmentToken) =>
    k.maxUses === null
      ? t('usesUnlimited', { uses: formatCount(locale, k.uses) })
      : t('usesOf', { uses: formatCount(locale, k.uses), max: formatCount(locale, k.maxUses) });
  const cols = ['id', 'name', 'state', 'created', 'expires', 'uses', 'maxUses', 'revoked'];
  const rows = tokens.map((k) => [
    k.id,
    k.name,
    t(`state.${enrollmentState(k, now)}`),
    when(k.createdAt),
    when(k.expiresAt),
    String(k.uses),
    k.maxUses === null ? '' : String(k.maxUses),
    k.revokedAt ? when(k.revokedAt) : '',
  ]);
  return (
    <>
      <h1>{t('title')}</h1>
      <p className="muted">{t('intro')}</p>
      {tokens.length ? (
        <table data-testid="enrollment-list" aria-label={t('title')}>
          <thead>
            <tr>
              <th scope="col">{t('col.name')}</th>
              <th scope="col">{t('col.state')}</th>
              <th scope="col">{t('col.created')}</th>
              <th scope="col">{t('col.expires')}</th>
              <th scope="col" className="num">
                {t('col.uses')}
              </th>
              <th scope="col">{t('col.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {tokens.map((k) => {
              const state = enrollmentState(k, now);
              return (
                <tr key={k.id} data-token-id={k.id} data-state={state}>
                  <th scope="row">{k.name}</th>
                  <td data-testid="token-state">{t(`state.${state}`)}</td>
                  <td>{when(k.createdAt)}</td>
                  <td>{when(k.expiresAt)}</td>
                  <td className="num" data-testid="token-uses">
                    {uses(k)}
                  </td>
                  <td>
                    {state === 'revoked' ? null : (
                      <RevokeToken kind="enrollment" id={k.id} name={k.name} />
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : (
        <p className="banner notice" data-testid="enrollment-none">
          {t('none')}
        </p>
      )}
      <CsvExport
        filename="tidewatch-enrollment-tokens.csv"
        columns={cols}
        rows={rows}
        testId="enrollment-csv"
      />
      <h2>{t('create')}</h2>
      <CreateEnrollmentForm />
    </>
  );
}

import { getTimeZone, getTranslations, setRequestLocale } from 'next-intl/server';
import { ApiStatusError, isApiError } from '../../../../api/client';
import { currentUser, serverApi } from '../../../../api/server-api';
import { CreateTokenForm, RevokeToken } from '../../../../components/AdminForms';
import { ApiProblem } from '../../../../components/ApiProblem';
import { CsvExport } from '../../../../components/CsvExport';
import { formatDateTime } from '../../../../format/units';
import { pageLocale } from '../../../../i18n/page-locale';
import { ApiToken, tokenState } from '../../../../model/admin';
import { mayCall } from '../../../../model/roles';

export const dynamic = 'force-dynamic';

/** API tokens for integrations (secadmin): the list, a new token (shown once), revoke. */
export default async function ApiTokensPage({ params }: { params: Promise<{ locale: string }> }) {
  const locale = await pageLocale(params);
  setRequestLocale(locale);
  const t = await getTranslations({ locale, namespace: 'admin' });
  const timeZone = await getTimeZone();
  const me = await currentUser();
  if (!mayCall(me?.role, 'GET /api/v1/api-tokens')) {
    return (
      <ApiProblem error={new ApiStatusError(403, '/api/v1/api-tokens', null)} locale={locale} />
    );
  }
  const { client, call } = await serverApi(locale, `/${locale}/admin/api-tokens`);
  let tokens: ApiToken[];
  try {
    tokens = (await call('/api/v1/api-tokens', () => client.GET('/api/v1/api-tokens'))).items;
  } catch (err) {
    if (!isApiError(err)) throw err;
    return <ApiProblem error={err} locale={locale} />;
  }
  const now = new Date();
  const when = (v: string | null) => (v ? formatDateTime(locale, timeZone, v) : '—');
  const cols = [
    'id',
    'name',
    'role',
    'state',
    'created',
    'createdBy',
    'expires',
    'lastUsed',
    'lastUsedFrom',
  ];
  const rows = tokens.map((k) => [
    k.id,
    k.name,
    k.role,
    t(`tokens.state.${tokenState(k, now)}`),
    when(k.createdAt),
    k.createdBy ?? '',
    when(k.expiresAt),
    when(k.lastUsedAt),
    k.lastUsedFrom ?? '',
  ]);
  return (
    <>
      <h1>{t('tokens.title')}</h1>
      {tokens.length ? (
        <table data-testid="token-list" aria-label={t('tokens.title')}>
          <thead>
            <tr>
              <th scope="col">{t('tokens.col.name')}</th>
              <th scope="col">{t('tokens.col.role')}</th>
              <th scope="col">{t('tokens.col.state')}</th>
              <th scope="col">{t('tokens.col.created')}</th>
              <th scope="col">{t('tokens.col.expires')}</th>
              <th scope="col">{t('tokens.col.lastUsed')}</th>
              <th scope="col">{t('tokens.col.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {tokens.map((k) => {
              const state = tokenState(k, now);
              return (
                <tr key={k.id} data-token-id={k.id} data-state={state}>
                  <th scope="row">{k.name}</th>
                  <td>{t(`roleName.${k.role}`)}</td>
                  <td data-testid="token-state">{t(`tokens.state.${state}`)}</td>
                  <td>
                    {when(k.createdAt)}
                    {k.createdBy ? ` (${k.createdBy})` : ''}
                  </td>
                  <td>{when(k.expiresAt)}</td>
                  <td>
                    {when(k.lastUsedAt)}
                    {k.lastUsedFrom ? ` (${k.lastUsedFrom})` : ''}
                  </td>
                  <td>
                    {state === 'active' ? <RevokeToken kind="api" id={k.id} name={k.name} /> : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : (
        <p className="banner notice" data-testid="token-none">
          {t('tokens.none')}
        </p>
      )}
      <CsvExport
        filename="tidewatch-api-tokens.csv"
        columns={cols}
        rows={rows}
        testId="token-csv"
      />
      <h2>{t('tokens.create')}</h2>
      <CreateTokenForm />
    </>
  );
}

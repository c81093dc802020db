import { getTimeZone, getTranslations, setRequestLocale } from 'next-intl/server';
import { ApiStatusError, isApiError } from '../../../../api/client';
import { currentUser, serverApi } from '../../../../api/server-api';
import { CreateUserForm, RoleChange, UserActions } from '../../../../components/AdminForms';
import { ApiProblem } from '../../../../components/ApiProblem';
import { CsvExport } from '../../../../components/CsvExport';
import { formatDateTime } from '../../../../format/units';
import { pageLocale } from '../../../../i18n/page-locale';
import { AdminUser, userStates } from '../../../../model/admin';
import { mayCall } from '../../../../model/roles';

export const dynamic = 'force-dynamic';

/** Users and roles (secadmin): the list, a new user with a role, role change, disable/enable, unlock, reset. */
export default async function UsersPage({ params }: { params: Promise<{ locale: string }> }) {
  const locale = await pageLocale(params);
  setRequestLocale(locale);
  const t = await getTranslations({ locale, namespace: 'admin' });
  const timeZone = await getTimeZone();
  const me = await currentUser();
  if (!mayCall(me?.role, 'GET /api/v1/users')) {
    return <ApiProblem error={new ApiStatusError(403, '/api/v1/users', null)} locale={locale} />;
  }
  const { client, call } = await serverApi(locale, `/${locale}/admin/users`);
  let users: AdminUser[];
  try {
    users = (await call('/api/v1/users', () => client.GET('/api/v1/users'))).items;
  } catch (err) {
    if (!isApiError(err)) throw err;
    return <ApiProblem error={err} locale={locale} />;
  }
  const when = (v: string | null) => (v ? formatDateTime(locale, timeZone, v) : '—');
  const list = new Intl.ListFormat(locale, { type: 'unit' });
  const states = (u: AdminUser) => list.format(userStates(u).map((s) => t(`users.state.${s}`)));
  const cols = ['username', 'role', 'source', 'state', 'totp', 'created', 'createdBy', 'lastLogin'];
  const rows = users.map((u) => [
    u.username,
    u.role,
    u.source,
    states(u),
    u.totpEnrolled ? t('yes') : t('no'),
    when(u.createdAt),
    u.createdBy ?? '',
    when(u.lastLoginAt),
  ]);
  return (
    <>
      <h1>{t('users.title')}</h1>
      <table data-testid="user-list" aria-label={t('users.title')}>
        <thead>
          <tr className="nowrap">
            <th scope="col">{t('users.col.username')}</th>
            <th scope="col">{t('users.col.role')}</th>
            <th scope="col">{t('users.col.source')}</th>
            <th scope="col">{t('users.col.state')}</th>
            <th scope="col">{t('users.col.totp')}</th>
            <th scope="col">{t('users.col.created')}</th>
            <th scope="col">{t('users.col.lastLogin')}</th>
            <th scope="col">{t('users.col.actions')}</th>
          </tr>
        </thead>
        <tbody>
          {users.map((u) => (
            <tr key={u.id} data-username={u.username}>
              <th scope="row">{u.username}</th>
              <td className="nowrap" data-testid="user-role-name">
                {t(`roleName.${u.role}`)}
              </td>
              <td className="nowrap" data-testid="user-source">
                {t(`users.sourceName.${u.source}`)}
              </td>
              <td data-testid="user-state">
                {states(u)}
                {u.lockedUntil ? ` (${t('users.until', { time: when(u.lockedUntil) })})` : ''}
              </td>
              <td className="nowrap" data-testid="user-totp">
                {u.totpEnrolled ? t('yes') : t('no')}
              </td>
              <td>
                {when(u.createdAt)}
                {u.createdBy ? ` (${u.createdBy})` : ''}
              </td>
              <td>{when(u.lastLoginAt)}</td>
              <td>
                {u.username === me?.username ? null : (
                  <>
                    {mayCall(me?.role, 'PATCH /api/v1/users/{username}') ? (
                      <RoleChange username={u.username} role={u.role} />
                    ) : null}
                    <UserActions
                      username={u.username}
                      disabled={!!u.disabledAt}
                      locked={!!u.lockedUntil}
                      local={u.source === 'local'}
                    />
                  </>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <CsvExport filename="tidewatch-users.csv" columns={cols} rows={rows} testId="user-csv" />
      <h2>{t('users.create')}</h2>
      <CreateUserForm />
    </>
  );
}

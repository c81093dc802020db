import { getTimeZone, getTranslations, setRequestLocale } from 'next-intl/server';
import { ApiStatusError, isApiError } from '../../../../api/client';
import { currentUser, serverApi } from '../../../../api/server-api';
import { ApiProblem } from '../../../../components/ApiProblem';
import { GroupRolesEditor } from '../../../../components/SecuritySettingsForms';
import { formatDateTime } from '../../../../format/units';
import { pageLocale } from '../../../../i18n/page-locale';
import { mayCall } from '../../../../model/roles';
import { GroupRolesView } from '../../../../model/security-settings';

export const dynamic = 'force-dynamic';

/** Which LDAP group gives which role (secadmin): list, add, remove, save; CSV of the table. */
export default async function LdapRolesPage({ params }: { params: Promise<{ locale: string }> }) {
  const locale = await pageLocale(params);
  setRequestLocale(locale);
  const t = await getTranslations({ locale, namespace: 'security.ldap' });
  const timeZone = await getTimeZone();
  const me = await currentUser();
  const route = '/api/v1/auth/ldap/group-roles';
  if (!mayCall(me?.role, `GET ${route}`)) {
    return <ApiProblem error={new ApiStatusError(403, route, null)} locale={locale} />;
  }
  const { client, call } = await serverApi(locale, `/${locale}/admin/ldap-roles`);
  let view: GroupRolesView;
  try {
    view = await call(route, () => client.GET(route));
  } catch (err) {
    if (!isApiError(err)) throw err;
    return <ApiProblem error={err} locale={locale} />;
  }
  return (
    <>
      <h1>{t('title')}</h1>
      <p className="muted">{t('intro')}</p>
      {view.ldapEnabled ? null : (
        <p className="banner notice" data-testid="ldap-disabled">
          {t('disabled')}
        </p>
      )}
      <p data-testid="group-role-source">
        {view.source === 'stored' && view.updatedAt
          ? t('stored', {
              by: view.updatedBy ?? '—',
              time: formatDateTime(locale, timeZone, view.updatedAt),
            })
          : t('environment')}
      </p>
      <GroupRolesEditor initial={view} />
    </>
  );
}

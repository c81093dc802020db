import { getTimeZone, getTranslations, setRequestLocale } from 'next-intl/server';
import { ApiStatusError, isApiError } from '../../../../api/client';
import openapi from '../../../../api/generated/openapi.json';
import { currentUser, serverApi } from '../../../../api/server-api';
import { ApiProblem } from '../../../../components/ApiProblem';
import { SignInPolicyForm } from '../../../../components/SecuritySettingsForms';
import { formatDateTime } from '../../../../format/units';
import { pageLocale } from '../../../../i18n/page-locale';
import { mayCall } from '../../../../model/roles';
import { policyBounds, SignInPolicyView } from '../../../../model/security-settings';

export const dynamic = 'force-dynamic';

/** The sign-in policy (secadmin): what is in force, where it comes from, and the form to change it. */
export default async function SignInPolicyPage({
  params,
}: {
  params: Promise<{ locale: string }>;
}) {
  const locale = await pageLocale(params);
  setRequestLocale(locale);
  const t = await getTranslations({ locale, namespace: 'security.policy' });
  const timeZone = await getTimeZone();
  const me = await currentUser();
  if (!mayCall(me?.role, 'GET /api/v1/auth/policy')) {
    return (
      <ApiProblem error={new ApiStatusError(403, '/api/v1/auth/policy', null)} locale={locale} />
    );
  }
  const { client, call } = await serverApi(locale, `/${locale}/admin/sign-in-policy`);
  let policy: SignInPolicyView;
  try {
    policy = await call('/api/v1/auth/policy', () => client.GET('/api/v1/auth/policy'));
  } catch (err) {
    if (!isApiError(err)) throw err;
    return <ApiProblem error={err} locale={locale} />;
  }
  return (
    <>
      <h1>{t('title')}</h1>
      <p className="muted">{t('intro')}</p>
      <p data-testid="policy-source">
        {policy.source === 'stored' && policy.updatedAt
          ? t('stored', {
              by: policy.updatedBy ?? '—',
              time: formatDateTime(locale, timeZone, policy.updatedAt),
            })
          : t('environment')}
      </p>
      <SignInPolicyForm initial={policy} bounds={policyBounds(openapi)} />
    </>
  );
}

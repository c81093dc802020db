import { getTranslations, setRequestLocale } from 'next-intl/server';
import { isApiError } from '../../../api/client';
import { serverApi } from '../../../api/server-api';
import { ApiProblem } from '../../../components/ApiProblem';
import { TotpEnrolment } from '../../../components/TotpEnrolment';
import { Link } from '../../../i18n/navigation';
import { pageLocale } from '../../../i18n/page-locale';
import { first, SearchParams } from '../../../view-state/range';
import { safeReturnPath } from '../../../view-state/return-path';

export const dynamic = 'force-dynamic';

/**
 * The signed-in user's own account (any role): who they are, the TOTP second factor (enrolment
 * when not yet enrolled) and the way to the password change. `?next=` when the sign-in sent them
 * here to enrol first (the layout says why), where "continue" then leads.
 */
export default async function AccountPage({
  params,
  searchParams,
}: {
  params: Promise<{ locale: string }>;
  searchParams: Promise<SearchParams>;
}) {
  const locale = await pageLocale(params);
  setRequestLocale(locale);
  const sp = await searchParams;
  const t = await getTranslations({ locale, namespace: 'account' });
  const tr = await getTranslations({ locale, namespace: 'admin.roleName' });
  const here = `/${locale}/account`;
  const { client, call } = await serverApi(locale, here);
  let me;
  try {
    me = await call('/api/v1/auth/me', () => client.GET('/api/v1/auth/me'));
  } catch (err) {
    if (!isApiError(err)) throw err;
    return <ApiProblem error={err} locale={locale} />;
  }
  const next = first(sp, 'next') ? safeReturnPath(first(sp, 'next'), locale) : null;
  return (
    <>
      <h1>{t('title')}</h1>
      <p data-testid="account-who">{t('who', { username: me.username, role: tr(me.role) })}</p>
      <h2>{t('totp.title')}</h2>
      {me.via !== 'session' ? (
        <p className="muted">{t('totp.notForTokens')}</p>
      ) : me.totpEnrolled ? (
        <p data-testid="totp-state">{t('totp.enrolled')}</p>
      ) : (
        <>
          <p data-testid="totp-state">
            {me.totpRequired ? t('totp.notEnrolledRequired') : t('totp.notEnrolled')}
          </p>
          <TotpEnrolment next={next} />
        </>
      )}
      <h2>{t('password')}</h2>
      <p>
        <Link href="/account/password" data-testid="account-password">
          {t('changePassword')}
        </Link>
      </p>
    </>
  );
}

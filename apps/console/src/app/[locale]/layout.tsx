import type { Metadata } from 'next';
import { hasLocale, NextIntlClientProvider } from 'next-intl';
import { getTimeZone, getTranslations, setRequestLocale } from 'next-intl/server';
import { notFound } from 'next/navigation';
import { ReactNode, Suspense } from 'react';
import { currentUser } from '../../api/server-api';
import { LocaleSwitch } from '../../components/LocaleSwitch';
import { SignOut } from '../../components/SignOut';
import { timeZoneLabel } from '../../format/units';
import { Link } from '../../i18n/navigation';
import { routing } from '../../i18n/routing';
import { LiveProvider } from '../../live/LiveProvider';
import { mayCall, mayWatchLive } from '../../model/roles';
import './globals.css';

export function generateStaticParams() {
  return routing.locales.map((locale) => ({ locale }));
}

export async function generateMetadata({
  params,
}: {
  params: Promise<{ locale: string }>;
}): Promise<Metadata> {
  const { locale } = await params;
  if (!hasLocale(routing.locales, locale)) return {};
  const t = await getTranslations({ locale, namespace: 'app' });
  return { title: t('title') };
}

export default async function LocaleLayout({
  children,
  params,
}: {
  children: ReactNode;
  params: Promise<{ locale: string }>;
}) {
  const { locale } = await params;
  if (!hasLocale(routing.locales, locale)) notFound();
  setRequestLocale(locale);
  const t = await getTranslations({ locale, namespace: 'app' });
  const timeZone = await getTimeZone();
  const me = await currentUser();
  return (
    <html lang={locale}>
      <body>
        <NextIntlClientProvider>
          <header className="topbar">
            <Link href="/" className="brand">
              {t('title')}
            </Link>
            <nav aria-label={t('navigation')}>
              {mayCall(me?.role, 'GET /api/v1/hosts') ? (
                <Link href="/fleet">{t('fleet')}</Link>
              ) : null}
              {me && mayCall(me.role, 'GET /api/v1/audit') ? (
                <Link href="/audit" data-testid="nav-audit">
                  {t('audit')}
                </Link>
              ) : null}
              {mayCall(me?.role, 'GET /api/v1/anomalies') ? (
                <Link href="/anomalies" data-testid="nav-anomalies">
                  {t('anomalies')}
                </Link>
              ) : null}
              {mayCall(me?.role, 'GET /api/v1/reports') ||
              mayCall(me?.role, 'GET /api/v1/reports/schedules') ? (
                <Link href="/reports" data-testid="nav-reports">
                  {t('reports')}
                </Link>
              ) : null}
              {me && mayCall(me.role, 'GET /api/v1/users') ? (
                <Link href="/admin/users" data-testid="nav-users">
                  {t('users')}
                </Link>
              ) : null}
              {me && mayCall(me.role, 'GET /api/v1/api-tokens') ? (
                <Link href="/admin/api-tokens" data-testid="nav-api-tokens">
                  {t('apiTokens')}
                </Link>
              ) : null}
              {me && mayCall(me.role, 'GET /api/v1/enrollment-tokens') ? (
                <Link href="/admin/enrollment-tokens" data-testid="nav-enrollment">
                  {t('enrollment')}
                </Link>
              ) : null}
              {me && mayCall(me.role, 'GET /api/v1/auth/policy') ? (
                <Link href="/admin/sign-in-policy" data-testid="nav-sign-in-policy">
                  {t('signInPolicy')}
                </Link>
              ) : null}
              {me && mayCall(me.role, 'GET /api/v1/auth/ldap/group-roles') ? (
                <Link href="/admin/ldap-roles" data-testid="nav-ldap-roles">
                  {t('ldapRoles')}
                </Link>
              ) : null}
              {me && mayCall(me.role, 'GET /api/v1/agent-config/fleet') ? (
                <Link href="/admin/agent-config" data-testid="nav-agent-config">
                  {t('agentConfig')}
                </Link>
              ) : null}
              {me ? (
                <Link href="/account" data-testid="nav-account">
                  {t('account')}
                </Link>
              ) : null}
            </nav>
            <span className="tz" data-testid="time-zone">
              {t('timeZone', { zone: timeZoneLabel(locale, timeZone) })}
            </span>
            {me ? <SignOut username={me.username} role={me.role} /> : null}
            <Suspense fallback={null}>
              <LocaleSwitch />
            </Suspense>
          </header>
          <LiveProvider enabled={!!me && mayWatchLive(me.role)}>
            <main>
              {me?.totpDue ? (
                <p className="banner notice" data-testid="totp-due">
                  {t('totpDue')} <Link href="/account">{t('account')}</Link>
                </p>
              ) : null}
              {children}
            </main>
          </LiveProvider>
        </NextIntlClientProvider>
      </body>
    </html>
  );
}

import { getTranslations, setRequestLocale } from 'next-intl/server';
import { ChangePasswordForm } from '../../../../components/ChangePasswordForm';
import { pageLocale } from '../../../../i18n/page-locale';
import { first, SearchParams } from '../../../../view-state/range';
import { safeReturnPath } from '../../../../view-state/return-path';

export default async function ChangePasswordPage({
  params,
  searchParams,
}: {
  params: Promise<{ locale: string }>;
  searchParams: Promise<SearchParams>;
}) {
  const locale = await pageLocale(params);
  setRequestLocale(locale);
  const sp = await searchParams;
  const t = await getTranslations({ locale, namespace: 'password' });
  return (
    <section className="signin">
      <h1>{t('title')}</h1>
      {first(sp, 'required') ? <p className="muted">{t('required')}</p> : null}
      <ChangePasswordForm next={safeReturnPath(first(sp, 'next'), locale)} />
    </section>
  );
}

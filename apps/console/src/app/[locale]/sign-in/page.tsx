import { pageLocale } from '../../../i18n/page-locale';
import { getTranslations, setRequestLocale } from 'next-intl/server';
import { SignInForm } from '../../../components/SignInForm';
import { first, SearchParams } from '../../../view-state/range';
import { safeReturnPath } from '../../../view-state/return-path';

export default async function SignInPage({
  params,
  searchParams,
}: {
  params: Promise<{ locale: string }>;
  searchParams: Promise<SearchParams>;
}) {
  const locale = await pageLocale(params);
  setRequestLocale(locale);
  const sp = await searchParams;
  const t = await getTranslations({ locale, namespace: 'signIn' });
  const next = safeReturnPath(first(sp, 'next'), locale);
  return (
    <section className="signin">
      <h1>{t('title')}</h1>
      {first(sp, 'next') ? <p className="muted">{t('expired')}</p> : null}
      <SignInForm next={next} />
    </section>
  );
}

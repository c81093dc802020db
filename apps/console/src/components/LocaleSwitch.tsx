'use client';

import { useLocale, useTranslations } from 'next-intl';
import { useSearchParams } from 'next/navigation';
import { Link, usePathname } from '../i18n/navigation';
import { routing } from '../i18n/routing';

/** The same view (path and search params) in the other language. */
export function LocaleSwitch() {
  const t = useTranslations('app');
  const locale = useLocale();
  const pathname = usePathname();
  const search = useSearchParams().toString();
  return (
    <span className="locales" role="group" aria-label={t('language')}>
      {routing.locales.map((l) => (
        <Link
          key={l}
          href={search ? `${pathname}?${search}` : pathname}
          locale={l}
          aria-current={l === locale ? 'true' : undefined}
          lang={l}
        >
          {t(`localeName.${l}`)}
        </Link>
      ))}
    </span>
  );
}

import { defineRouting } from 'next-intl/routing';
import { DEFAULT_LOCALE, LOCALES } from './locales';

export { isLocale } from './locales';
export type { Locale } from './locales';

export const routing = defineRouting({
  locales: LOCALES,
  defaultLocale: DEFAULT_LOCALE,
  localePrefix: 'always',
  // The locale is what the URL says: a permalink opens in the language it was shared in.
  localeDetection: false,
});

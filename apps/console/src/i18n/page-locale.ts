import { notFound } from 'next/navigation';
import { isLocale, Locale } from './routing';

/** The page's locale from its params; anything else is not a page of the console. */
export async function pageLocale(params: Promise<{ locale: string }>): Promise<Locale> {
  const { locale } = await params;
  if (!isLocale(locale)) notFound();
  return locale;
}

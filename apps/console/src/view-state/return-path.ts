import { LOCALES } from '../i18n/locales';

/**
 * Where to go after signing in: only a path inside the console (`/<locale>/...`), never
 * another origin or a protocol-relative URL; anything else goes to the locale's home (the
 * signed-in role's own page).
 */
export function safeReturnPath(next: string | undefined | null, locale: string): string {
  const fallback = `/${locale}`;
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.includes('\\')) {
    return fallback;
  }
  const seg = next.split(/[/?#]/)[1] ?? '';
  if (!(LOCALES as readonly string[]).includes(seg)) return fallback;
  if (next.startsWith(`/${seg}/sign-in`)) return fallback;
  return next;
}

export function signInPath(locale: string, returnTo: string): string {
  return `/${locale}/sign-in?next=${encodeURIComponent(returnTo)}`;
}

import createMiddleware from 'next-intl/middleware';
import { routing } from './i18n/routing';

// Locale prefixes for pages; /api (the proxy to the server) and static files pass untouched.
export default createMiddleware(routing);

export const config = {
  matcher: ['/((?!api|_next|_vercel|.*\\..*).*)'],
};

import type { NextConfig } from 'next';
import createNextIntlPlugin from 'next-intl/plugin';

const withNextIntl = createNextIntlPlugin('./src/i18n/request.ts');

const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // The console talks to the server through src/app/api/[...path]/route.ts (read at run time,
  // so TIDEWATCH_API_URL needs no rebuild), never through build-time rewrites.
  typedRoutes: false,
};

export default withNextIntl(config);

'use client';

import { useTranslations } from 'next-intl';

/** The server could not be reached or answered an error: say so, never a blank page. */
export default function ErrorPage({ error, reset }: { error: Error; reset: () => void }) {
  const t = useTranslations('errors');
  const unreachable = /unreachable/i.test(error.message);
  return (
    <section className="banner error" role="alert">
      <h1>{unreachable ? t('unreachableTitle') : t('failedTitle')}</h1>
      <p>{unreachable ? t('unreachable') : t('failed')}</p>
      <button type="button" onClick={() => reset()}>
        {t('retry')}
      </button>
    </section>
  );
}

import { getTranslations } from 'next-intl/server';
import { ApiStatusError, ApiUnreachableError } from '../api/client';

/**
 * What a page shows instead of its data when the server could not answer: unreachable, not
 * allowed for this role (403), or another error. Never a blank page. Other errors rethrow.
 */
export async function ApiProblem({ error, locale }: { error: unknown; locale: 'zh-CN' | 'en' }) {
  const t = await getTranslations({ locale, namespace: 'errors' });
  let title: string;
  let text: string;
  if (error instanceof ApiUnreachableError) {
    title = t('unreachableTitle');
    text = t('unreachable');
  } else if (error instanceof ApiStatusError && error.status === 403) {
    title = t('forbiddenTitle');
    text = t('forbidden');
  } else if (error instanceof ApiStatusError) {
    title = t('failedTitle');
    text = t('failedStatus', { status: error.status });
  } else {
    throw error;
  }
  return (
    <section className="banner error" role="alert" data-testid="api-problem">
      <h1>{title}</h1>
      <p>{text}</p>
    </section>
  );
}

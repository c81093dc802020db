'use client';

import { useLocale, useTranslations } from 'next-intl';

/** Ends the session on the server (the cookie is cleared there), then back to sign-in. */
export function SignOut({ username, role }: { username: string; role: string }) {
  const t = useTranslations('app');
  const locale = useLocale();
  async function signOut() {
    await fetch('/api/v1/auth/logout', { method: 'POST', credentials: 'same-origin' }).catch(
      () => undefined,
    );
    window.location.assign(`/${locale}/sign-in`);
  }
  return (
    <span className="user" data-testid="signed-in-user">
      {t('signedInAs', { username, role })}{' '}
      <button type="button" className="link" onClick={signOut}>
        {t('signOut')}
      </button>
    </span>
  );
}

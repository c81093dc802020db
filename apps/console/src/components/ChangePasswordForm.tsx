'use client';

import { useLocale, useTranslations } from 'next-intl';
import { FormEvent, useState } from 'react';
import { signInPath } from '../view-state/return-path';

type Message = 'mismatch' | 'rejected' | 'expired' | 'unavailable' | null;

/**
 * POST /api/v1/auth/password. The server ends every session of the user on success, so the
 * user signs in again with the new password and is then taken to `next`.
 */
export function ChangePasswordForm({ next }: { next: string }) {
  const t = useTranslations('password');
  const locale = useLocale();
  const [message, setMessage] = useState<Message>(null);
  const [detail, setDetail] = useState('');
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const currentPassword = String(form.get('currentPassword') ?? '');
    const newPassword = String(form.get('newPassword') ?? '');
    if (newPassword !== String(form.get('confirmPassword') ?? '')) {
      setMessage('mismatch');
      return;
    }
    setBusy(true);
    try {
      const res = await fetch('/api/v1/auth/password', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ currentPassword, newPassword }),
        credentials: 'same-origin',
      });
      if (res.ok) {
        window.location.assign(signInPath(locale, next));
        return;
      }
      const body = (await res.json().catch(() => null)) as { message?: unknown } | null;
      setDetail(typeof body?.message === 'string' ? body.message : '');
      setMessage(res.status === 401 ? 'expired' : res.status === 400 ? 'rejected' : 'unavailable');
    } catch {
      setMessage('unavailable');
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} method="post" noValidate>
      <label htmlFor="currentPassword">{t('current')}</label>
      <input
        id="currentPassword"
        name="currentPassword"
        type="password"
        autoComplete="current-password"
        required
        autoFocus
      />
      <label htmlFor="newPassword">{t('new')}</label>
      <input
        id="newPassword"
        name="newPassword"
        type="password"
        autoComplete="new-password"
        required
      />
      <label htmlFor="confirmPassword">{t('confirm')}</label>
      <input
        id="confirmPassword"
        name="confirmPassword"
        type="password"
        autoComplete="new-password"
        required
      />
      <button type="submit" disabled={busy}>
        {t('submit')}
      </button>
      {message ? (
        <p className="error" role="alert" data-testid="password-message">
          {t(`messages.${message}`)}
          {detail && message === 'rejected' ? ` (${detail})` : ''}
        </p>
      ) : null}
    </form>
  );
}

'use client';

import { useLocale, useTranslations } from 'next-intl';
import { FormEvent, useRef, useState } from 'react';
import { SignInOutcome, signInOutcome } from './sign-in-outcome';

type Message = Exclude<SignInOutcome['kind'], 'signedIn'> | null;

/** The new session's role signs in with TOTP and this user has not enrolled it yet. */
async function totpEnrolmentDue(): Promise<boolean> {
  try {
    const res = await fetch('/api/v1/auth/me', { credentials: 'same-origin', cache: 'no-store' });
    const me = (await res.json()) as { totpRequired?: unknown; totpEnrolled?: unknown };
    return res.ok && me.totpRequired === true && me.totpEnrolled === false;
  } catch {
    return false;
  }
}

/**
 * Username and password; the TOTP field is there from the start (filled only by roles that
 * need it) and is asked for explicitly when the server answers that the code is required.
 */
export function SignInForm({ next }: { next: string }) {
  const t = useTranslations('signIn');
  const locale = useLocale();
  const [step, setStep] = useState<'password' | 'totp'>('password');
  const [message, setMessage] = useState<Message>(null);
  const [busy, setBusy] = useState(false);
  const totpRef = useRef<HTMLInputElement>(null);

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const body: Record<string, string> = {
      username: String(form.get('username') ?? ''),
      password: String(form.get('password') ?? ''),
    };
    const totp = String(form.get('totp') ?? '').trim();
    if (totp) body.totp = totp;
    setBusy(true);
    let outcome: SignInOutcome;
    try {
      const res = await fetch('/api/v1/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        credentials: 'same-origin',
      });
      outcome = signInOutcome(res.status, await res.json().catch(() => null), 'totp' in body);
    } catch {
      outcome = { kind: 'unavailable' };
    }
    setBusy(false);
    if (outcome.kind === 'signedIn') {
      // A full load, so that every server component renders with the new session. A password
      // that must change first, or a role's TOTP not enrolled yet: only that is allowed until
      // it is done.
      const then = encodeURIComponent(next);
      window.location.assign(
        outcome.mustChangePassword
          ? `/${locale}/account/password?required=1&next=${then}`
          : (await totpEnrolmentDue())
            ? `/${locale}/account?next=${then}`
            : next,
      );
      return;
    }
    if (outcome.kind === 'needTotp') {
      setStep('totp');
      setMessage('needTotp');
      requestAnimationFrame(() => totpRef.current?.focus());
      return;
    }
    setMessage(outcome.kind);
  }

  return (
    <form onSubmit={submit} method="post" noValidate>
      <label htmlFor="username">{t('username')}</label>
      <input id="username" name="username" autoComplete="username" required autoFocus />
      <label htmlFor="password">{t('password')}</label>
      <input
        id="password"
        name="password"
        type="password"
        autoComplete="current-password"
        required
      />
      <label htmlFor="totp">{step === 'totp' ? t('totp') : t('totpOptional')}</label>
      <input
        id="totp"
        name="totp"
        ref={totpRef}
        inputMode="numeric"
        autoComplete="one-time-code"
        pattern="[0-9]{6,8}"
        required={step === 'totp'}
        aria-describedby={message ? 'sign-in-message' : undefined}
      />
      <button type="submit" disabled={busy}>
        {busy ? t('signingIn') : step === 'totp' ? t('verify') : t('submit')}
      </button>
      {message ? (
        <p
          id="sign-in-message"
          className={message === 'needTotp' ? 'muted' : 'error'}
          role="alert"
          data-testid="sign-in-message"
        >
          {t(`messages.${message}`)}
        </p>
      ) : null}
    </form>
  );
}

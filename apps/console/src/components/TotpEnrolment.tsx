'use client';

import { useLocale, useTranslations } from 'next-intl';
import { FormEvent, useEffect, useMemo, useState } from 'react';
import { browserApi } from '../api/client';
import { qrDrawing } from '../model/qr-code';
import { groupedSecret, problemMessages } from '../model/security-settings';
import { signInPath } from '../view-state/return-path';

type Problem =
  | { kind: 'refused'; message: string }
  | { kind: 'unavailable'; message: string }
  | { kind: 'codeFormat' }
  | { kind: 'failed'; status: number };

/**
 * TOTP enrolment of the signed-in user: POST /api/v1/auth/totp/enroll gives a new secret (shown
 * once: as a QR code of the otpauth:// URI for the authenticator's camera, grouped for manual
 * entry, and as the URI itself), POST /api/v1/auth/totp/confirm
 * with a code from it completes it. From the next sign-in on, the code is asked for.
 */
export function TotpEnrolment({ next }: { next: string | null }) {
  const t = useTranslations('account.totp');
  const tc = useTranslations('change');
  const locale = useLocale();
  const [ready, setReady] = useState(false);
  useEffect(() => setReady(true), []);
  const [busy, setBusy] = useState(false);
  const [secret, setSecret] = useState<{ otpauthUri: string; secret: string } | null>(null);
  const [done, setDone] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);

  /** The answer's problem, or null when it went through; a 401 goes to sign in and back. */
  function problemOf(r: { response: Response; error?: unknown }): Problem | null | 'away' {
    const status = r.response.status;
    if (r.response.ok) return null;
    if (status === 401) {
      window.location.assign(signInPath(locale, window.location.pathname));
      return 'away';
    }
    const message = problemMessages(r.error).join('; ');
    if (status === 400 || status === 403 || status === 409) return { kind: 'refused', message };
    if (status === 503) return { kind: 'unavailable', message };
    return { kind: 'failed', status };
  }

  async function begin() {
    setBusy(true);
    setProblem(null);
    try {
      const r = await browserApi().POST('/api/v1/auth/totp/enroll');
      const p = problemOf(r);
      if (p === 'away') return;
      if (p) setProblem(p);
      else if (r.data) setSecret(r.data);
    } catch {
      setProblem({ kind: 'failed', status: 0 });
    } finally {
      setBusy(false);
    }
  }

  async function confirm(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const code = String(new FormData(e.currentTarget).get('code') ?? '').replace(/\s+/g, '');
    if (!/^\d{6}$/.test(code)) return setProblem({ kind: 'codeFormat' });
    setBusy(true);
    setProblem(null);
    try {
      const r = await browserApi().POST('/api/v1/auth/totp/confirm', { body: { code } });
      const p = problemOf(r);
      if (p === 'away') return;
      if (p) setProblem(p);
      else {
        setDone(true);
        setSecret(null);
      }
    } catch {
      setProblem({ kind: 'failed', status: 0 });
    } finally {
      setBusy(false);
    }
  }

  const problemText = !problem
    ? null
    : problem.kind === 'refused'
      ? tc('refused', { message: problem.message })
      : problem.kind === 'unavailable'
        ? t('unavailable', { message: problem.message })
        : problem.kind === 'codeFormat'
          ? t('codeFormat')
          : tc('failed', { status: problem.status });

  if (done) {
    return (
      <div data-testid="totp-done">
        <p role="status" className="banner notice">
          {t('done')}
        </p>
        {next ? (
          <a href={next} data-testid="totp-continue">
            {t('continue')}
          </a>
        ) : null}
      </div>
    );
  }
  return (
    <div className="settings">
      {secret ? (
        <>
          <p>{t('scan')}</p>
          <QrCode text={secret.otpauthUri} label={t('qr')} />
          <dl className="secret">
            <dt>{t('secret')}</dt>
            <dd>
              <code data-testid="totp-secret">{groupedSecret(secret.secret)}</code>
            </dd>
            <dt>{t('uri')}</dt>
            <dd>
              <code data-testid="totp-uri">{secret.otpauthUri}</code>
            </dd>
          </dl>
          <p className="muted">{t('shownOnce')}</p>
          <form className="toolbar wrap" onSubmit={(e) => void confirm(e)} noValidate>
            <label htmlFor="totp-code">{t('code')}</label>
            <input
              id="totp-code"
              name="code"
              inputMode="numeric"
              autoComplete="one-time-code"
              maxLength={6}
              size={8}
              aria-describedby={problem ? 'totp-message' : undefined}
            />
            <button type="submit" disabled={busy || !ready} data-testid="totp-confirm">
              {t('confirm')}
            </button>
          </form>
        </>
      ) : (
        <div className="toolbar">
          <button
            type="button"
            disabled={busy || !ready}
            onClick={() => void begin()}
            data-testid="totp-begin"
          >
            {t('begin')}
          </button>
        </div>
      )}
      <p
        id="totp-message"
        role="status"
        aria-live="polite"
        className={problem ? 'field-error' : undefined}
        data-testid="totp-message"
      >
        {busy ? tc('working') : problemText}
      </p>
    </div>
  );
}

/** Pixels a module: whole pixels keep the edges sharp for a camera. */
const MODULE_PX = 4;

/** The QR code of `text`, drawn in the page (dark on white whatever the colour scheme). */
function QrCode({ text, label }: { text: string; label: string }) {
  const { size, path } = useMemo(() => qrDrawing(text), [text]);
  return (
    <svg
      className="qr"
      role="img"
      aria-label={label}
      data-testid="totp-qr"
      viewBox={`0 0 ${size} ${size}`}
      width={size * MODULE_PX}
      height={size * MODULE_PX}
      shapeRendering="crispEdges"
    >
      <rect width={size} height={size} fill="#fff" />
      <path d={path} fill="#000" />
    </svg>
  );
}

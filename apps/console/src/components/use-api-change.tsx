'use client';

import { useLocale, useTranslations } from 'next-intl';
import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import { signInPath } from '../view-state/return-path';

/** How one change through the API ended, `done` carrying what the form wants to say about it. */
export type ChangeOutcome<D> =
  | { kind: 'done'; value: D }
  | { kind: 'refused'; message: string }
  | { kind: 'forbidden' }
  | { kind: 'invalid' }
  | { kind: 'failed'; status: number };

type Answer<T> = { response: Response; data?: T; error?: unknown };

/**
 * One change through the server's API from a form (browser side, through the console's /api):
 * a 401 sends the user to sign in and back; on success the page's server components fetch
 * again, so what the page shows is the server's state after the change.
 */
export function useApiChange<D>() {
  const locale = useLocale();
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  // Until hydrated, a press would submit the form natively (a GET of this page): wait for it.
  const [ready, setReady] = useState(false);
  useEffect(() => setReady(true), []);
  const [outcome, setOutcome] = useState<ChangeOutcome<D> | null>(null);

  async function run<T>(call: () => Promise<Answer<T>>, done: (data: T) => D): Promise<boolean> {
    setBusy(true);
    setOutcome(null);
    try {
      const r = await call();
      const status = r.response.status;
      if (status === 401) {
        window.location.assign(signInPath(locale, window.location.pathname));
        return false;
      }
      if (r.response.ok) {
        setOutcome({ kind: 'done', value: done(r.data as T) });
        router.refresh();
        return true;
      }
      const m = (r.error as { message?: unknown } | undefined)?.message;
      if (status === 403) setOutcome({ kind: 'forbidden' });
      else if (status === 400 || status === 404 || status === 409)
        setOutcome({ kind: 'refused', message: Array.isArray(m) ? m.join('; ') : String(m ?? '') });
      else setOutcome({ kind: 'failed', status });
    } catch {
      setOutcome({ kind: 'failed', status: 0 });
    } finally {
      setBusy(false);
    }
    return false;
  }
  return { busy, ready, outcome, setOutcome, run };
}

/** The live line that says how the change went (`done` and `invalid` are the form's words). */
export function ChangeMessage<D>({
  outcome,
  busy,
  done,
  invalid,
  testId,
}: {
  outcome: ChangeOutcome<D> | null;
  busy: boolean;
  done: (value: D) => string;
  invalid?: string;
  testId: string;
}) {
  const t = useTranslations('change');
  let message: string | null = null;
  if (outcome?.kind === 'done') message = done(outcome.value);
  else if (outcome?.kind === 'refused') message = t('refused', { message: outcome.message });
  else if (outcome?.kind === 'forbidden') message = t('forbidden');
  else if (outcome?.kind === 'invalid') message = invalid ?? null;
  else if (outcome?.kind === 'failed') message = t('failed', { status: outcome.status });
  return (
    <p role="status" aria-live="polite" data-testid={testId}>
      {busy ? t('working') : message}
    </p>
  );
}

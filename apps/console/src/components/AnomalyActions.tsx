'use client';

import { useLocale, useTranslations } from 'next-intl';
import { FormEvent, useEffect, useState } from 'react';
import { browserApi } from '../api/client';
import { signInPath } from '../view-state/return-path';

export type Step = 'acknowledge' | 'resolve' | 'suppress';

/** Suppression lengths offered, in seconds (the server takes 60 s to 30 days). */
export const SUPPRESS_FOR = {
  '1h': 3600,
  '4h': 14_400,
  '24h': 86_400,
  '7d': 604_800,
  '30d': 2_592_000,
};
type Duration = keyof typeof SUPPRESS_FOR;

type Outcome =
  | { kind: 'done'; status: string }
  | { kind: 'refused'; message: string }
  | { kind: 'forbidden' }
  | { kind: 'reasonRequired' }
  | { kind: 'failed'; status: number };

/**
 * Acknowledge, resolve, suppress (POST /api/v1/anomalies/:id/…), each with its note or reason
 * for the audit trail. Shown only to roles the server admits; the page reloads its data after.
 */
export function AnomalyActions({
  id,
  steps,
  done,
}: {
  id: string;
  steps: Step[];
  /** The status the last step led to (`?done=` after the reload), to say it was done. */
  done?: string;
}) {
  const t = useTranslations('anomalies');
  const locale = useLocale();
  const [busy, setBusy] = useState(false);
  // Until hydrated, a press would submit the form natively (a GET of this page): wait for it.
  const [ready, setReady] = useState(false);
  useEffect(() => setReady(true), []);
  const [outcome, setOutcome] = useState<Outcome | null>(
    done ? { kind: 'done', status: done } : null,
  );

  async function run(step: Step, form: FormData) {
    const api = browserApi();
    const path = { id };
    const note = String(form.get('note') ?? '').trim() || undefined;
    if (step === 'suppress') {
      const reason = String(form.get('reason') ?? '').trim();
      if (!reason) return setOutcome({ kind: 'reasonRequired' });
      const duration = String(form.get('duration') ?? '24h') as Duration;
      return api.POST('/api/v1/anomalies/{id}/suppress', {
        params: { path },
        body: { reason, durationSeconds: SUPPRESS_FOR[duration] ?? SUPPRESS_FOR['24h'] },
      });
    }
    if (step === 'acknowledge') {
      return api.POST('/api/v1/anomalies/{id}/acknowledge', { params: { path }, body: { note } });
    }
    return api.POST('/api/v1/anomalies/{id}/resolve', { params: { path }, body: { note } });
  }

  async function submit(e: FormEvent<HTMLFormElement>, step: Step) {
    e.preventDefault();
    setBusy(true);
    setOutcome(null);
    try {
      const r = await run(step, new FormData(e.currentTarget));
      if (!r) return;
      const status = r.response.status;
      if (status === 401) {
        window.location.assign(signInPath(locale, window.location.pathname));
        return;
      }
      if (r.response.ok && r.data) {
        // Reloaded with the step's outcome in the URL: the whole page (status, handling record)
        // is the server's answer after the step, and the message survives the reload.
        window.location.assign(
          `${window.location.pathname}?done=${encodeURIComponent(r.data.status)}`,
        );
        return;
      } else if (status === 403) setOutcome({ kind: 'forbidden' });
      else if (status === 409 || status === 400) {
        const m = (r.error as { message?: unknown } | undefined)?.message;
        setOutcome({ kind: 'refused', message: Array.isArray(m) ? m.join('; ') : String(m ?? '') });
      } else setOutcome({ kind: 'failed', status });
    } catch {
      setOutcome({ kind: 'failed', status: 0 });
    } finally {
      setBusy(false);
    }
  }

  let message: string | null = null;
  if (outcome?.kind === 'done')
    message = t('actions.done', {
      status: t.has(`statusName.${outcome.status}` as 'statusName.open')
        ? t(`statusName.${outcome.status}` as 'statusName.open')
        : outcome.status,
    });
  else if (outcome?.kind === 'refused')
    message = t('actions.refused', { message: outcome.message });
  else if (outcome?.kind === 'forbidden') message = t('actions.forbidden');
  else if (outcome?.kind === 'reasonRequired') message = t('actions.reasonRequired');
  else if (outcome?.kind === 'failed') message = t('actions.failed', { status: outcome.status });

  return (
    <section className="actions" aria-label={t('actions.title')} data-testid="anomaly-actions">
      {steps.length === 0 ? <p className="muted">{t('actions.nothing')}</p> : null}
      {steps.includes('acknowledge') || steps.includes('resolve') ? (
        <form
          className="toolbar"
          onSubmit={(e) => {
            // Two buttons, one note: the button pressed (or the first, on Enter) says which step.
            const by = (e.nativeEvent as SubmitEvent).submitter?.getAttribute('value');
            void submit(
              e,
              by === 'resolve'
                ? 'resolve'
                : steps.includes('acknowledge')
                  ? 'acknowledge'
                  : 'resolve',
            );
          }}
        >
          <label htmlFor="anomaly-note">{t('actions.note')}</label>
          <input id="anomaly-note" name="note" maxLength={1000} size={40} />
          {(['acknowledge', 'resolve'] as const)
            .filter((s) => steps.includes(s))
            .map((s) => (
              <button
                key={s}
                type="submit"
                value={s}
                data-testid={`anomaly-${s}`}
                disabled={busy || !ready}
              >
                {t(`actions.${s}`)}
              </button>
            ))}
        </form>
      ) : null}
      {steps.includes('suppress') ? (
        <form className="toolbar" onSubmit={(e) => void submit(e, 'suppress')}>
          <label htmlFor="suppress-reason">{t('actions.reason')}</label>
          <input id="suppress-reason" name="reason" maxLength={1000} size={40} required />
          <label htmlFor="suppress-duration">{t('actions.duration')}</label>
          <select id="suppress-duration" name="duration" defaultValue="24h">
            {(Object.keys(SUPPRESS_FOR) as Duration[]).map((d) => (
              <option key={d} value={d}>
                {t(`actions.durations.${d}`)}
              </option>
            ))}
          </select>
          <button type="submit" data-testid="anomaly-suppress" disabled={busy || !ready}>
            {t('actions.suppress')}
          </button>
        </form>
      ) : null}
      <p role="status" aria-live="polite" data-testid="anomaly-action-message">
        {busy ? t('actions.working') : message}
      </p>
    </section>
  );
}

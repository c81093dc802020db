'use client';

import { useTranslations } from 'next-intl';
import { FormEvent } from 'react';
import { ApiPaths, browserApi, Schemas } from '../api/client';
import {
  REPORT_FORMATS,
  REPORT_LANGS,
  ReportFormat,
  ReportLang,
  SCHEDULE_NAME,
} from '../model/reports';
import { ChangeMessage, useApiChange } from './use-api-change';
import { HostSelect } from './FormFields';

type ScheduleBody =
  ApiPaths['/api/v1/reports/schedules/{name}']['put']['requestBody']['content']['application/json'];

/** Creates (or replaces, by name) a daily schedule: PUT /api/v1/reports/schedules/:name. */
export function ScheduleForm({
  hosts,
  defaultLang,
  defaultOffset,
}: {
  hosts: { agentId: string; hostname: string }[];
  defaultLang: ReportLang;
  defaultOffset: number;
}) {
  const t = useTranslations('reports');
  const { busy, ready, outcome, setOutcome, run } = useApiChange<string>();

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const formEl = e.currentTarget;
    const f = new FormData(formEl);
    const name = String(f.get('name') ?? '').trim();
    const formats = REPORT_FORMATS.filter((x) => f.get(`format-${x}`) === 'on');
    const agentId = String(f.get('agentId') ?? '') || undefined;
    const labels = agentId ? undefined : String(f.get('labels') ?? '').trim() || undefined;
    if (!SCHEDULE_NAME.test(name) || formats.length === 0) return setOutcome({ kind: 'invalid' });
    const body: ScheduleBody = {
      agentId,
      labels,
      formats: formats as ReportFormat[],
      lang: String(f.get('lang')) as ReportLang,
      hour: Number(f.get('hour')),
      utcOffsetMinutes: Number(f.get('utcOffsetMinutes')),
      enabled: f.get('enabled') === 'on',
    };
    const ok = await run(
      () =>
        browserApi().PUT('/api/v1/reports/schedules/{name}', {
          params: { path: { name } },
          body,
        }),
      () => name,
    );
    if (ok) formEl.reset();
  }

  return (
    <form
      className="toolbar wrap"
      onSubmit={(e) => void submit(e)}
      aria-label={t('schedules.create')}
      data-testid="schedule-form"
    >
      <label htmlFor="schedule-name">{t('schedules.name')}</label>
      <input
        id="schedule-name"
        name="name"
        required
        maxLength={64}
        pattern="[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}"
        size={16}
      />
      <label htmlFor="schedule-host">{t('scope.host')}</label>
      <HostSelect id="schedule-host" name="agentId" hosts={hosts} allLabel={t('scope.fleet')} />
      <label htmlFor="schedule-labels">{t('scope.labels')}</label>
      <input id="schedule-labels" name="labels" placeholder="env=prod" size={14} />
      <fieldset>
        <legend>{t('schedules.formats')}</legend>
        {REPORT_FORMATS.map((x) => (
          <label key={x}>
            <input type="checkbox" name={`format-${x}`} defaultChecked={x === 'pdf'} />{' '}
            {t(`format.${x}`)}
          </label>
        ))}
      </fieldset>
      <label htmlFor="schedule-lang">{t('lang')}</label>
      <select id="schedule-lang" name="lang" defaultValue={defaultLang}>
        {REPORT_LANGS.map((l) => (
          <option key={l} value={l}>
            {t(`langName.${l}`)}
          </option>
        ))}
      </select>
      <label htmlFor="schedule-hour">{t('schedules.hour')}</label>
      <input
        id="schedule-hour"
        name="hour"
        type="number"
        min={0}
        max={23}
        defaultValue={1}
        required
      />
      <label htmlFor="schedule-offset">{t('schedules.offset')}</label>
      <input
        id="schedule-offset"
        name="utcOffsetMinutes"
        type="number"
        min={-720}
        max={840}
        defaultValue={defaultOffset}
        required
      />
      <label>
        <input type="checkbox" name="enabled" defaultChecked /> {t('schedules.enabled')}
      </label>
      <button type="submit" disabled={busy || !ready} data-testid="schedule-save">
        {t('schedules.save')}
      </button>
      <ChangeMessage
        outcome={outcome}
        busy={busy}
        done={(n) => t('schedules.saved', { name: n })}
        invalid={t('schedules.invalid')}
        testId="schedule-message"
      />
    </form>
  );
}

/** Deletes one schedule (DELETE /api/v1/reports/schedules/:name); kept reports stay. */
export function DeleteSchedule({ name }: { name: string }) {
  const t = useTranslations('reports.schedules');
  const { busy, ready, outcome, run } = useApiChange<string>();
  return (
    <>
      <button
        type="button"
        disabled={busy || !ready}
        aria-label={t('deleteNamed', { name })}
        data-testid="schedule-delete"
        onClick={() =>
          void run(
            () =>
              browserApi().DELETE('/api/v1/reports/schedules/{name}', {
                params: { path: { name } },
              }),
            () => name,
          )
        }
      >
        {t('delete')}
      </button>
      {/* Once deleted the row is gone; only a refusal or failure needs saying here. */}
      {outcome && outcome.kind !== 'done' ? (
        <ChangeMessage outcome={outcome} busy={busy} done={() => ''} testId="schedule-message" />
      ) : null}
    </>
  );
}

type Verification = Schemas['ReportVerificationView'];

/**
 * Checks one kept report (GET /api/v1/reports/stored/:id/verify): the server re-hashes the
 * stored bytes and compares them with the digest its audit trail recorded at generation. The
 * answer is shown as given: match or not, both digests, the audit entry compared with.
 */
export function VerifyReport({ id }: { id: string }) {
  const t = useTranslations('reports.verify');
  const { busy, ready, outcome, run } = useApiChange<Verification>();
  const v = outcome?.kind === 'done' ? outcome.value : null;
  return (
    // A digest is 64 hex digits: let it wrap inside the cell.
    <div className="verify" data-testid="report-verify" style={{ overflowWrap: 'anywhere' }}>
      <button
        type="button"
        disabled={busy || !ready}
        aria-label={t('buttonNamed', { id })}
        data-testid="report-verify-button"
        onClick={() =>
          void run(
            () =>
              browserApi().GET('/api/v1/reports/stored/{id}/verify', {
                params: { path: { id } },
              }),
            (data) => data,
          )
        }
      >
        {t('button')}
      </button>
      {v ? (
        <div role="status" aria-live="polite" data-testid="report-verify-result">
          <p>
            <strong
              className={`badge ${v.ok ? 'online' : 'offline'}`}
              data-testid="report-verify-outcome"
            >
              {v.ok ? t('ok') : t('bad')}
            </strong>
          </p>
          <p>
            {t('stored')}{' '}
            <code data-testid="report-verify-digest">{`${v.digestAlg}:${v.digest}`}</code>
          </p>
          <p data-testid="report-verify-audit">
            {v.auditSequence === null ? (
              t('noEntry')
            ) : v.auditedDigest === null ? (
              t('auditedNone', { sequence: v.auditSequence })
            ) : (
              <>
                {t('audited', { sequence: v.auditSequence })}{' '}
                <code data-testid="report-verify-audited">{`${v.digestAlg}:${v.auditedDigest}`}</code>
              </>
            )}
          </p>
        </div>
      ) : (
        <ChangeMessage
          outcome={outcome}
          busy={busy}
          done={() => ''}
          testId="report-verify-message"
        />
      )}
    </div>
  );
}

'use client';

import { useTranslations } from 'next-intl';
import { FormEvent } from 'react';
import { browserApi } from '../api/client';
import {
  Field,
  LayerFields,
  layerFieldsOf,
  Masking,
  MASKINGS,
  NUMBER_FIELDS,
} from '../model/agent-config';
import { ChangeMessage, useApiChange } from './use-api-change';

type Done = { changed: number | null };

/** The numeric and port inputs of a configuration; `required` for a host's full override. */
function SettingsInputs({
  prefix,
  values,
  inherited,
  required = false,
}: {
  prefix: string;
  values: LayerFields;
  /** What an empty input inherits, shown as its placeholder. */
  inherited?: Partial<Record<Field, string>>;
  required?: boolean;
}) {
  const t = useTranslations('admin.agentConfig');
  const num = (f: (typeof NUMBER_FIELDS)[number]) => {
    const v = values[f];
    return v === null ? '' : String(v);
  };
  return (
    <>
      {NUMBER_FIELDS.map((f) => (
        <span key={f} className="field">
          <label htmlFor={`${prefix}-${f}`}>{t(`field.${f}`)}</label>
          <input
            id={`${prefix}-${f}`}
            name={f}
            inputMode="decimal"
            size={8}
            defaultValue={num(f)}
            placeholder={inherited?.[f]}
            required={required}
          />
        </span>
      ))}
      <span className="field">
        <label htmlFor={`${prefix}-portAllowlist`}>{t('field.portAllowlist')}</label>
        <input
          id={`${prefix}-portAllowlist`}
          name="portAllowlist"
          size={18}
          defaultValue={values.portAllowlist?.join(', ') ?? ''}
          placeholder={inherited?.portAllowlist}
        />
      </span>
    </>
  );
}

/**
 * The fleet layer or one label layer (new, or the one `edit=` names): an empty field is
 * inherited from below. The masking is not here: it is the security administrator's.
 */
export function LayerForm({
  label,
  values,
  priority,
  inherited,
}: {
  /** null: the fleet layer; `{}`: a new label layer; key and value: that label layer. */
  label: { key?: string; value?: string } | null;
  values: LayerFields;
  priority?: number;
  inherited?: Partial<Record<Field, string>>;
}) {
  const t = useTranslations('admin.agentConfig');
  const { busy, ready, outcome, setOutcome, run } = useApiChange<Done>();
  const isNew = label !== null && !label.key;
  const prefix = label === null ? 'fleet' : 'layer';
  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const formEl = e.currentTarget;
    const f = new FormData(formEl);
    const get = (n: string) => String(f.get(n) ?? '');
    const parsed = layerFieldsOf(get);
    if (!parsed.ok) return setOutcome({ kind: 'refused', message: t(`field.${parsed.field}`) });
    const done = (d: { changedHosts: number }) => ({ changed: d.changedHosts });
    if (label === null) {
      await run(
        () => browserApi().PUT('/api/v1/agent-config/fleet', { body: parsed.fields }),
        done,
      );
      return;
    }
    const key = isNew ? get('key').trim() : (label.key as string);
    const value = isNew ? get('value').trim() : (label.value as string);
    const prio = get('priority').trim();
    if (!key || !value || !/^\d+$/.test(prio)) return setOutcome({ kind: 'invalid' });
    const ok = await run(
      () =>
        browserApi().PUT('/api/v1/agent-config/labels/{key}/{value}', {
          params: { path: { key, value } },
          body: { ...parsed.fields, priority: Number(prio) },
        }),
      done,
    );
    // A new layer is in the table now; the form is ready for the next one.
    if (ok && isNew) formEl.reset();
  }
  const title =
    label === null
      ? t('fleet.edit')
      : isNew
        ? t('labels.add')
        : t('labels.editNamed', { label: `${label.key}=${label.value}` });
  return (
    <form
      className="toolbar wrap"
      aria-label={title}
      data-testid={`${prefix}-form`}
      onSubmit={(e) => void submit(e)}
    >
      {isNew ? (
        <>
          <span className="field">
            <label htmlFor="layer-key">{t('labels.key')}</label>
            <input id="layer-key" name="key" required maxLength={63} size={10} />
          </span>
          <span className="field">
            <label htmlFor="layer-value">{t('labels.value')}</label>
            <input id="layer-value" name="value" required maxLength={256} size={10} />
          </span>
        </>
      ) : null}
      {label !== null ? (
        <span className="field">
          <label htmlFor="layer-priority">{t('labels.priority')}</label>
          <input
            id="layer-priority"
            name="priority"
            inputMode="numeric"
            required
            size={5}
            defaultValue={priority === undefined ? '' : String(priority)}
            aria-describedby="layer-priority-hint"
          />
          <span id="layer-priority-hint" className="muted">
            {t('labels.priorityHint')}
          </span>
        </span>
      ) : null}
      <SettingsInputs prefix={prefix} values={values} inherited={inherited} />
      <button type="submit" disabled={busy || !ready} data-testid={`${prefix}-submit`}>
        {t('save')}
      </button>
      <ChangeMessage
        outcome={outcome}
        busy={busy}
        done={(d) => t('saved', { hosts: d.changed ?? 0 })}
        invalid={t('labels.invalid')}
        testId={`${prefix}-message`}
      />
    </form>
  );
}

/** Deletes a label layer: its hosts get what remains. */
export function DeleteLayer({ labelKey, value }: { labelKey: string; value: string }) {
  const t = useTranslations('admin.agentConfig');
  const { busy, ready, outcome, run } = useApiChange<Done>();
  const name = `${labelKey}=${value}`;
  return (
    <span>
      <button
        type="button"
        disabled={busy || !ready}
        data-testid="layer-delete"
        aria-label={t('labels.deleteNamed', { label: name })}
        onClick={() =>
          void run(
            () =>
              browserApi().DELETE('/api/v1/agent-config/labels/{key}/{value}', {
                params: { path: { key: labelKey, value } },
              }),
            (d) => ({ changed: d.changedHosts }),
          )
        }
      >
        {t('labels.delete')}
      </button>
      <ChangeMessage
        outcome={outcome?.kind === 'done' ? null : outcome}
        busy={busy}
        done={() => ''}
        testId="layer-delete-message"
      />
    </span>
  );
}

/**
 * The masking policy of a layer or a host (the security administrator's). Layers may inherit
 * (the empty choice); a host's own override names a mode.
 */
export function MaskingForm({
  target,
  current,
  name,
}: {
  target: { scope: 'fleet' } | { scope: 'label'; key: string; value: string } | { agentId: string };
  current: Masking | null;
  /** What the form is about, for its accessible name. */
  name: string;
}) {
  const t = useTranslations('admin.agentConfig');
  const { busy, ready, outcome, run } = useApiChange<Done>();
  const inherit = !('agentId' in target);
  const which =
    'agentId' in target
      ? 'host'
      : target.scope === 'fleet'
        ? 'fleet'
        : `${target.key}-${target.value}`.replace(/[^\w-]/g, '_');
  const id = `masking-${which}`;
  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const v = String(new FormData(e.currentTarget).get('masking') ?? '');
    const masking = v === '' ? null : (v as Masking);
    if ('agentId' in target) {
      if (masking === null) return;
      await run(
        () =>
          browserApi().PUT('/api/v1/hosts/{agentId}/masking', {
            params: { path: { agentId: target.agentId } },
            body: { masking },
          }),
        () => ({ changed: null }),
      );
    } else if (target.scope === 'fleet') {
      await run(
        () => browserApi().PUT('/api/v1/agent-config/fleet/masking', { body: { masking } }),
        (d) => ({ changed: d.changedHosts }),
      );
    } else {
      await run(
        () =>
          browserApi().PUT('/api/v1/agent-config/labels/{key}/{value}/masking', {
            params: { path: { key: target.key, value: target.value } },
            body: { masking },
          }),
        (d) => ({ changed: d.changedHosts }),
      );
    }
  }
  return (
    <form
      className="toolbar wrap"
      aria-label={t('masking.formNamed', { name })}
      data-testid={id}
      onSubmit={(e) => void submit(e)}
    >
      <label htmlFor={id}>{t('field.masking')}</label>
      <select id={id} name="masking" defaultValue={current ?? ''}>
        {inherit ? <option value="">{t('masking.inherit')}</option> : null}
        {MASKINGS.map((m) => (
          <option key={m} value={m}>
            {t(`masking.mode.${m}`)}
          </option>
        ))}
      </select>
      <button type="submit" disabled={busy || !ready} data-testid={`${id}-submit`}>
        {t('masking.set')}
      </button>
      <ChangeMessage
        outcome={outcome}
        busy={busy}
        done={(d) => (d.changed === null ? t('masking.saved') : t('saved', { hosts: d.changed }))}
        testId={`${id}-message`}
      />
    </form>
  );
}

/**
 * A host's own override (PUT /api/v1/hosts/{agentId}/config): every field, starting from what
 * the host runs now; the masking goes along unchanged (the security administrator's).
 */
export function HostOverrideForm({
  agentId,
  values,
  masking,
}: {
  agentId: string;
  values: LayerFields;
  masking: Masking;
}) {
  const t = useTranslations('admin.agentConfig');
  const { busy, ready, outcome, setOutcome, run } = useApiChange<Done>();
  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const parsed = layerFieldsOf((n) => String(f.get(n) ?? ''));
    if (!parsed.ok) return setOutcome({ kind: 'refused', message: t(`field.${parsed.field}`) });
    const v = parsed.fields;
    if (
      v.windowSeconds === null ||
      v.topN === null ||
      v.maxFlowsPerWindow === null ||
      v.cpuBudgetPercent === null
    )
      return setOutcome({ kind: 'invalid' });
    await run(
      () =>
        browserApi().PUT('/api/v1/hosts/{agentId}/config', {
          params: { path: { agentId } },
          body: {
            windowSeconds: v.windowSeconds as number,
            topN: v.topN as number,
            maxFlowsPerWindow: v.maxFlowsPerWindow as number,
            cpuBudgetPercent: v.cpuBudgetPercent as number,
            portAllowlist: v.portAllowlist ?? [],
            masking,
          },
        }),
      () => ({ changed: null }),
    );
  }
  return (
    <form
      className="toolbar wrap"
      aria-label={t('host.edit')}
      data-testid="host-form"
      onSubmit={(e) => void submit(e)}
    >
      <SettingsInputs prefix="host" values={values} required />
      <button type="submit" disabled={busy || !ready} data-testid="host-submit">
        {t('save')}
      </button>
      <ChangeMessage
        outcome={outcome}
        busy={busy}
        done={() => t('host.saved')}
        invalid={t('host.invalid')}
        testId="host-message"
      />
    </form>
  );
}

/**
 * Removes the host's own override: it gets what its layers give again (its masking stays).
 * Mounted whether or not there is one (`present`), so that its status line outlives the
 * refresh that removes the button.
 */
export function ClearHostOverride({ agentId, present }: { agentId: string; present: boolean }) {
  const t = useTranslations('admin.agentConfig');
  const { busy, ready, outcome, run } = useApiChange<Done>();
  return (
    <p>
      {present ? (
        <button
          type="button"
          disabled={busy || !ready}
          data-testid="host-clear"
          onClick={() =>
            void run(
              () =>
                browserApi().DELETE('/api/v1/hosts/{agentId}/config', {
                  params: { path: { agentId } },
                }),
              () => ({ changed: null }),
            )
          }
        >
          {t('host.clear')}
        </button>
      ) : null}{' '}
      <ChangeMessage
        outcome={outcome}
        busy={busy}
        done={() => t('host.cleared')}
        testId="host-clear-message"
      />
    </p>
  );
}

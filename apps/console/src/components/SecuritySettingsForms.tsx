'use client';

import { useLocale, useTranslations } from 'next-intl';
import { useRouter } from 'next/navigation';
import { FormEvent, useEffect, useState } from 'react';
import { browserApi } from '../api/client';
import { ROLES, Role } from '../model/admin';
import {
  GroupRole,
  GroupRolesView,
  mappingRowOf,
  messagesByField,
  POLICY_NUMBERS,
  PolicyBounds,
  PolicyField,
  policyNumber,
  problemMessages,
  SignInPolicy,
  SignInPolicyView,
} from '../model/security-settings';
import { signInPath } from '../view-state/return-path';
import { CsvExport } from './CsvExport';

/** How a PUT of the settings ended: the server's answer, or its refusal in its own words. */
type Sent<T> =
  | { kind: 'ok'; data: T }
  | { kind: 'refused'; messages: string[] }
  | { kind: 'forbidden' }
  | { kind: 'failed'; status: number };

/**
 * One PUT through the console's /api: a 401 sends the user to sign in and back (null); on
 * success the page's server components fetch again (who changed it, and when).
 */
function useSend() {
  const locale = useLocale();
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  // Until hydrated, a press would submit the form natively (a GET of this page): wait for it.
  const [ready, setReady] = useState(false);
  useEffect(() => setReady(true), []);
  async function send<T>(
    call: () => Promise<{ response: Response; data?: T; error?: unknown }>,
  ): Promise<Sent<T> | null> {
    setBusy(true);
    try {
      const r = await call();
      const status = r.response.status;
      if (status === 401) {
        window.location.assign(signInPath(locale, window.location.pathname));
        return null;
      }
      if (r.response.ok && r.data !== undefined) {
        router.refresh();
        return { kind: 'ok', data: r.data };
      }
      if (status === 403) return { kind: 'forbidden' };
      if (status === 400 || status === 409) {
        return { kind: 'refused', messages: problemMessages(r.error) };
      }
      return { kind: 'failed', status };
    } catch {
      return { kind: 'failed', status: 0 };
    } finally {
      setBusy(false);
    }
  }
  return { busy, ready, send };
}

/** The line under a form: saved, or why not (the server's words for a refusal). */
function Outcome({
  outcome,
  busy,
  saved,
  testId,
}: {
  outcome: Sent<unknown> | null;
  busy: boolean;
  saved: string;
  testId: string;
}) {
  const t = useTranslations('change');
  let text: string | null = null;
  if (outcome?.kind === 'ok') text = saved;
  else if (outcome?.kind === 'refused')
    text = t('refused', { message: outcome.messages.join('; ') });
  else if (outcome?.kind === 'forbidden') text = t('forbidden');
  else if (outcome?.kind === 'failed') text = t('failed', { status: outcome.status });
  return (
    <p
      role="status"
      aria-live="polite"
      data-testid={testId}
      className={outcome && outcome.kind !== 'ok' ? 'field-error' : undefined}
    >
      {busy ? t('working') : text}
    </p>
  );
}

type PolicyForm = Record<Exclude<PolicyField, 'totpRoles'>, string> & { totpRoles: Role[] };

const asForm = (p: SignInPolicy): PolicyForm => ({
  ...(Object.fromEntries(POLICY_NUMBERS.map((k) => [k, String(p[k])])) as Record<
    (typeof POLICY_NUMBERS)[number],
    string
  >),
  totpRoles: [...p.totpRoles],
});

const POLICY_FIELDS: readonly PolicyField[] = [...POLICY_NUMBERS, 'totpRoles'];

/**
 * The sign-in policy (PUT /api/v1/auth/policy replaces it whole): each field of the DTO with
 * its bounds from the server's document; the server's messages beside the fields they name.
 */
export function SignInPolicyForm({
  initial,
  bounds,
}: {
  initial: SignInPolicy;
  bounds: PolicyBounds;
}) {
  const t = useTranslations('security.policy');
  const tr = useTranslations('admin.roleName');
  const { busy, ready, send } = useSend();
  const [form, setForm] = useState<PolicyForm>(() => asForm(initial));
  const [outcome, setOutcome] = useState<Sent<SignInPolicyView> | null>(null);
  const messages = outcome?.kind === 'refused' ? outcome.messages : [];
  const { byField, other } = messagesByField(messages, POLICY_FIELDS);

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setOutcome(null);
    const body = {
      ...Object.fromEntries(POLICY_NUMBERS.map((k) => [k, policyNumber(form[k])])),
      totpRoles: form.totpRoles,
      // What was typed goes as typed: the server's validation says what is wrong with it.
    } as unknown as SignInPolicy;
    const r = await send(() => browserApi().PUT('/api/v1/auth/policy', { body }));
    if (!r) return;
    if (r.kind === 'ok') setForm(asForm(r.data));
    setOutcome(r);
  }

  const errorOf = (k: PolicyField) =>
    byField[k]?.length ? (
      <p id={`policy-${k}-error`} className="field-error" data-testid={`policy-${k}-error`}>
        {byField[k]!.join('; ')}
      </p>
    ) : null;
  const describedBy = (k: PolicyField, hint: boolean) =>
    [hint ? `policy-${k}-hint` : '', byField[k]?.length ? `policy-${k}-error` : '']
      .filter(Boolean)
      .join(' ') || undefined;

  return (
    <form
      className="settings"
      onSubmit={(e) => void submit(e)}
      noValidate
      aria-label={t('title')}
      data-testid="policy-form"
    >
      {POLICY_NUMBERS.map((k) => (
        <div className="setting" key={k}>
          <label htmlFor={`policy-${k}`}>{t(`field.${k}`)}</label>
          <input
            id={`policy-${k}`}
            name={k}
            inputMode="numeric"
            size={7}
            value={form[k]}
            aria-invalid={byField[k]?.length ? true : undefined}
            aria-describedby={describedBy(k, true)}
            onChange={(e) => setForm({ ...form, [k]: e.target.value })}
          />
          <span id={`policy-${k}-hint`} className="muted">
            {t(k === 'passwordMaxAgeDays' ? 'boundsOrNever' : 'bounds', bounds[k])}
          </span>
          {errorOf(k)}
        </div>
      ))}
      <fieldset
        className="setting"
        aria-describedby={describedBy('totpRoles', true)}
        data-testid="policy-totpRoles"
      >
        <legend>{t('field.totpRoles')}</legend>
        {ROLES.map((r) => (
          <label key={r} className="check">
            <input
              type="checkbox"
              name="totpRoles"
              value={r}
              checked={form.totpRoles.includes(r)}
              onChange={(e) =>
                setForm({
                  ...form,
                  totpRoles: e.target.checked
                    ? ROLES.filter((x) => x === r || form.totpRoles.includes(x))
                    : form.totpRoles.filter((x) => x !== r),
                })
              }
            />
            {tr(r)}
          </label>
        ))}
        <span id="policy-totpRoles-hint" className="muted">
          {t('totpHint')}
        </span>
        {errorOf('totpRoles')}
      </fieldset>
      <div className="toolbar">
        <button type="submit" disabled={busy || !ready} data-testid="policy-save">
          {t('save')}
        </button>
      </div>
      {/* A refusal worded per field is pointed to here; any other is said here. */}
      <Outcome
        outcome={
          outcome?.kind === 'refused' && other.length === 0
            ? { kind: 'refused', messages: [t('seeFields')] }
            : outcome?.kind === 'refused'
              ? { kind: 'refused', messages: other }
              : outcome
        }
        busy={busy}
        saved={t('saved')}
        testId="policy-message"
      />
    </form>
  );
}

/**
 * The LDAP group → role mapping (PUT /api/v1/auth/ldap/group-roles replaces it whole): the rows
 * are edited here, then saved together; the server answers with the mapping it keeps (DNs in
 * one canonical form, sorted).
 */
export function GroupRolesEditor({ initial }: { initial: GroupRolesView }) {
  const t = useTranslations('security.ldap');
  const tr = useTranslations('admin.roleName');
  const { busy, ready, send } = useSend();
  const [rows, setRows] = useState<GroupRole[]>(() => initial.mappings.map((m) => ({ ...m })));
  const [dirty, setDirty] = useState(false);
  const [outcome, setOutcome] = useState<Sent<GroupRolesView> | null>(null);
  const [addGroup, setAddGroup] = useState('');
  const [addRole, setAddRole] = useState<Role>('viewer');
  const [addMissing, setAddMissing] = useState(false);

  const messages = outcome?.kind === 'refused' ? outcome.messages : [];
  const rowMessages = new Map<number, string[]>();
  const other: string[] = [];
  for (const m of messages) {
    const i = mappingRowOf(m);
    if (i === null || i >= rows.length) other.push(m);
    else rowMessages.set(i, [...(rowMessages.get(i) ?? []), m]);
  }

  function change(next: GroupRole[]) {
    setRows(next);
    setDirty(true);
    setOutcome(null);
  }

  function add(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const group = addGroup.trim();
    if (!group) return setAddMissing(true);
    setAddMissing(false);
    change([...rows, { group, role: addRole }]);
    setAddGroup('');
  }

  async function save() {
    setOutcome(null);
    const r = await send(() =>
      browserApi().PUT('/api/v1/auth/ldap/group-roles', { body: { mappings: rows } }),
    );
    if (!r) return;
    if (r.kind === 'ok') {
      setRows(r.data.mappings.map((m) => ({ ...m })));
      setDirty(false);
    }
    setOutcome(r);
  }

  return (
    <>
      <table data-testid="group-role-list" aria-label={t('title')}>
        <thead>
          <tr>
            <th scope="col">{t('col.group')}</th>
            <th scope="col">{t('col.role')}</th>
            <th scope="col">{t('col.actions')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td colSpan={3} className="muted" data-testid="group-role-none">
                {t('none')}
              </td>
            </tr>
          ) : null}
          {rows.map((m, i) => (
            <tr key={`${i}:${m.group}`} data-group={m.group}>
              <th scope="row">
                <code>{m.group}</code>
                {rowMessages.has(i) ? (
                  <p className="field-error" data-testid="group-role-error">
                    {rowMessages.get(i)!.join('; ')}
                  </p>
                ) : null}
              </th>
              <td>
                <select
                  aria-label={t('roleOf', { group: m.group })}
                  value={m.role}
                  data-testid="group-role-role"
                  onChange={(e) =>
                    change(
                      rows.map((x, j) => (j === i ? { ...x, role: e.target.value as Role } : x)),
                    )
                  }
                >
                  {ROLES.map((r) => (
                    <option key={r} value={r}>
                      {tr(r)}
                    </option>
                  ))}
                </select>
              </td>
              <td>
                <button
                  type="button"
                  data-testid="group-role-remove"
                  aria-label={t('removeNamed', { group: m.group })}
                  onClick={() => change(rows.filter((_, j) => j !== i))}
                >
                  {t('remove')}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <CsvExport
        filename="tidewatch-ldap-group-roles.csv"
        columns={['group', 'role']}
        rows={rows.map((m) => [m.group, m.role])}
        testId="group-role-csv"
      />
      <h2>{t('add')}</h2>
      <form
        className="toolbar wrap"
        onSubmit={add}
        noValidate
        aria-label={t('add')}
        data-testid="group-role-add"
      >
        <label htmlFor="group-dn">{t('col.group')}</label>
        <input
          id="group-dn"
          name="group"
          size={44}
          maxLength={1024}
          value={addGroup}
          placeholder="cn=tw-ops,ou=groups,dc=bank,dc=example"
          aria-describedby={addMissing ? 'group-dn-missing' : undefined}
          onChange={(e) => setAddGroup(e.target.value)}
        />
        <label htmlFor="group-role">{t('col.role')}</label>
        <select
          id="group-role"
          name="role"
          value={addRole}
          onChange={(e) => setAddRole(e.target.value as Role)}
        >
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {tr(r)}
            </option>
          ))}
        </select>
        <button type="submit" disabled={!ready} data-testid="group-role-add-submit">
          {t('addButton')}
        </button>
        {addMissing ? (
          <span id="group-dn-missing" className="field-error" role="alert">
            {t('groupMissing')}
          </span>
        ) : null}
      </form>
      <div className="toolbar">
        <button
          type="button"
          disabled={busy || !ready}
          onClick={() => void save()}
          data-testid="group-role-save"
        >
          {t('save')}
        </button>
        {dirty ? (
          <span className="muted" data-testid="group-role-unsaved">
            {t('unsaved')}
          </span>
        ) : null}
      </div>
      <Outcome
        outcome={
          outcome?.kind === 'refused'
            ? { kind: 'refused', messages: other.length ? other : [t('seeRows')] }
            : outcome
        }
        busy={busy}
        saved={t('saved')}
        testId="group-role-message"
      />
    </>
  );
}

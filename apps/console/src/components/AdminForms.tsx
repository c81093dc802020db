'use client';

import { useTranslations } from 'next-intl';
import { FormEvent } from 'react';
import { browserApi } from '../api/client';
import { ROLES, Role, TOKEN_ROLES, TokenRole } from '../model/admin';
import { ChangeMessage, ChangeOutcome, useApiChange } from './use-api-change';

/** A secret the server shows once (a generated password, an API token): said to be copied now. */
function ShownOnce({ label, value, testId }: { label: string; value: string; testId: string }) {
  const t = useTranslations('admin');
  return (
    <p className="banner notice">
      {label}: <code data-testid={testId}>{value}</code> {t('shownOnce')}
    </p>
  );
}

/** The roles a form offers, by their translated names; viewer (the least) first chosen. */
function RoleSelect({ id, roles }: { id: string; roles: readonly Role[] }) {
  const t = useTranslations('admin');
  return (
    <select id={id} name="role" defaultValue="viewer">
      {roles.map((r) => (
        <option key={r} value={r}>
          {t(`roleName.${r}`)}
        </option>
      ))}
    </select>
  );
}

type Created = { name: string; secret?: string };

/** The end of a create form: its button, how the change went, and the secret shown once. */
function CreateFooter({
  ns,
  prefix,
  busy,
  ready,
  outcome,
  secretLabel,
  secretTestId,
}: {
  ns: 'admin.users' | 'admin.tokens' | 'admin.enrollment';
  prefix: string;
  busy: boolean;
  ready: boolean;
  outcome: ChangeOutcome<Created> | null;
  secretLabel: string;
  secretTestId: string;
}) {
  const t = useTranslations(ns);
  return (
    <>
      <button type="submit" disabled={busy || !ready} data-testid={`${prefix}-create-submit`}>
        {t('createButton')}
      </button>
      <ChangeMessage
        outcome={outcome}
        busy={busy}
        done={(c) => t('created', { name: c.name })}
        invalid={t('invalid')}
        testId={`${prefix}-create-message`}
      />
      {outcome?.kind === 'done' && outcome.value.secret ? (
        <ShownOnce label={secretLabel} value={outcome.value.secret} testId={secretTestId} />
      ) : null}
    </>
  );
}

/** A new user with a role (POST /api/v1/users); without a password one is generated, shown once. */
export function CreateUserForm() {
  const t = useTranslations('admin.users');
  const { busy, ready, outcome, setOutcome, run } = useApiChange<Created>();
  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const formEl = e.currentTarget;
    const f = new FormData(formEl);
    const username = String(f.get('username') ?? '').trim();
    const password = String(f.get('password') ?? '') || undefined;
    if (!username) return setOutcome({ kind: 'invalid' });
    const ok = await run(
      () =>
        browserApi().POST('/api/v1/users', {
          body: { username, role: String(f.get('role')) as Role, password },
        }),
      (data) => ({ name: username, secret: (data as { password?: string } | undefined)?.password }),
    );
    if (ok) formEl.reset();
  }
  return (
    <form
      className="toolbar wrap"
      onSubmit={(e) => void submit(e)}
      aria-label={t('create')}
      data-testid="user-create"
    >
      <label htmlFor="new-username">{t('col.username')}</label>
      <input id="new-username" name="username" required maxLength={64} size={16} />
      <label htmlFor="new-role">{t('col.role')}</label>
      <RoleSelect id="new-role" roles={ROLES} />
      <label htmlFor="new-password">{t('password')}</label>
      <input
        id="new-password"
        name="password"
        type="password"
        autoComplete="new-password"
        maxLength={1024}
        size={18}
        aria-describedby="new-password-hint"
      />
      <span id="new-password-hint" className="muted">
        {t('passwordHint')}
      </span>
      <CreateFooter
        ns="admin.users"
        prefix="user"
        {...{ busy, ready, outcome }}
        secretLabel={t('generated')}
        secretTestId="user-password"
      />
    </form>
  );
}

/** One user's actions: disable/enable, unlock, reset the password (the new one shown once). */
export function UserActions({
  username,
  disabled,
  locked,
  local,
}: {
  username: string;
  disabled: boolean;
  locked: boolean;
  local: boolean;
}) {
  const t = useTranslations('admin.users');
  const { busy, ready, outcome, run } = useApiChange<Created>();
  const path = { username };
  const off = busy || !ready;
  return (
    <div className="row-actions">
      <button
        type="button"
        disabled={off}
        data-testid={disabled ? 'user-enable' : 'user-disable'}
        aria-label={t(disabled ? 'enableNamed' : 'disableNamed', { name: username })}
        onClick={() =>
          void run(
            () =>
              browserApi().PATCH('/api/v1/users/{username}', {
                params: { path },
                body: { disabled: !disabled },
              }),
            () => ({ name: username }),
          )
        }
      >
        {t(disabled ? 'enable' : 'disable')}
      </button>
      {locked ? (
        <button
          type="button"
          disabled={off}
          data-testid="user-unlock"
          aria-label={t('unlockNamed', { name: username })}
          onClick={() =>
            void run(
              () => browserApi().POST('/api/v1/users/{username}/unlock', { params: { path } }),
              () => ({ name: username }),
            )
          }
        >
          {t('unlock')}
        </button>
      ) : null}
      {local ? (
        <button
          type="button"
          disabled={off}
          data-testid="user-reset"
          aria-label={t('resetNamed', { name: username })}
          onClick={() =>
            void run(
              () =>
                browserApi().POST('/api/v1/users/{username}/reset', {
                  params: { path },
                  body: {},
                }),
              (data) => ({
                name: username,
                secret: (data as { password?: string } | undefined)?.password,
              }),
            )
          }
        >
          {t('reset')}
        </button>
      ) : null}
      <ChangeMessage
        outcome={outcome}
        busy={busy}
        done={(c) => t('changed', { name: c.name })}
        testId="user-message"
      />
      {outcome?.kind === 'done' && outcome.value.secret ? (
        <ShownOnce label={t('newPassword')} value={outcome.value.secret} testId="user-password" />
      ) : null}
    </div>
  );
}

/**
 * One user's role (PATCH /api/v1/users/:username {role}): the server enforces the separation of
 * the administrator roles and refuses in words, which are shown; the user's sessions end.
 */
export function RoleChange({ username, role }: { username: string; role: Role }) {
  const t = useTranslations('admin.users');
  const tr = useTranslations('admin.roleName');
  const { busy, ready, outcome, run } = useApiChange<string>();
  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const next = String(new FormData(e.currentTarget).get('role')) as Role;
    void run(
      () =>
        browserApi().PATCH('/api/v1/users/{username}', {
          params: { path: { username } },
          body: { role: next },
        }),
      () => tr(next),
    );
  }
  return (
    <form className="row-actions" onSubmit={submit} data-testid="user-role">
      <select
        name="role"
        defaultValue={role}
        aria-label={t('roleOf', { name: username })}
        data-testid="user-role-select"
      >
        {ROLES.map((r) => (
          <option key={r} value={r}>
            {tr(r)}
          </option>
        ))}
      </select>
      <button
        type="submit"
        disabled={busy || !ready}
        data-testid="user-role-submit"
        aria-label={t('changeRoleNamed', { name: username })}
      >
        {t('changeRole')}
      </button>
      <ChangeMessage
        outcome={outcome}
        busy={busy}
        done={(r) => t('roleChanged', { name: username, role: r })}
        testId="user-role-message"
      />
    </form>
  );
}

/** A new API token for an integration (POST /api/v1/api-tokens): the token is shown once. */
export function CreateTokenForm() {
  const t = useTranslations('admin.tokens');
  const { busy, ready, outcome, setOutcome, run } = useApiChange<Created>();
  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const formEl = e.currentTarget;
    const f = new FormData(formEl);
    const name = String(f.get('name') ?? '').trim();
    const days = Number(f.get('days'));
    if (!name) return setOutcome({ kind: 'invalid' });
    const ok = await run(
      () =>
        browserApi().POST('/api/v1/api-tokens', {
          body: {
            name,
            role: String(f.get('role')) as TokenRole,
            expiresInDays: Number.isInteger(days) && days > 0 ? days : undefined,
          },
        }),
      (data) => ({ name, secret: (data as { token?: string } | undefined)?.token }),
    );
    if (ok) formEl.reset();
  }
  return (
    <form
      className="toolbar wrap"
      onSubmit={(e) => void submit(e)}
      aria-label={t('create')}
      data-testid="token-create"
    >
      <label htmlFor="token-name">{t('col.name')}</label>
      <input id="token-name" name="name" required maxLength={100} size={20} />
      <label htmlFor="token-role">{t('col.role')}</label>
      <RoleSelect id="token-role" roles={TOKEN_ROLES} />
      <label htmlFor="token-days">{t('days')}</label>
      <input id="token-days" name="days" type="number" min={1} max={730} size={5} />
      <CreateFooter
        ns="admin.tokens"
        prefix="token"
        {...{ busy, ready, outcome }}
        secretLabel={t('token')}
        secretTestId="token-secret"
      />
    </form>
  );
}

/** Creates an enrollment token for new agents (POST /api/v1/enrollment-tokens), shown once. */
export function CreateEnrollmentForm() {
  const t = useTranslations('admin.enrollment');
  const { busy, ready, outcome, setOutcome, run } = useApiChange<Created>();
  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const formEl = e.currentTarget;
    const f = new FormData(formEl);
    const name = String(f.get('name') ?? '').trim();
    const whole = (k: string) => {
      const n = Number(f.get(k) || NaN);
      return Number.isInteger(n) && n > 0 ? n : undefined;
    };
    if (!name) return setOutcome({ kind: 'invalid' });
    const ok = await run(
      () =>
        browserApi().POST('/api/v1/enrollment-tokens', {
          // 24 h unless given: the server's default, as its OpenAPI document states it.
          body: { name, expiresInHours: whole('hours') ?? 24, maxUses: whole('uses') },
        }),
      (data) => ({ name, secret: (data as { token?: string } | undefined)?.token }),
    );
    if (ok) formEl.reset();
  }
  return (
    <form
      className="toolbar wrap"
      onSubmit={(e) => void submit(e)}
      aria-label={t('create')}
      data-testid="enrollment-create"
    >
      <label htmlFor="enrollment-name">{t('col.name')}</label>
      <input id="enrollment-name" name="name" required maxLength={100} size={20} />
      <label htmlFor="enrollment-hours">{t('hours')}</label>
      <input id="enrollment-hours" name="hours" type="number" min={1} max={8760} size={5} />
      <label htmlFor="enrollment-uses">{t('uses')}</label>
      <input id="enrollment-uses" name="uses" type="number" min={1} size={5} />
      <CreateFooter
        ns="admin.enrollment"
        prefix="enrollment"
        {...{ busy, ready, outcome }}
        secretLabel={t('token')}
        secretTestId="enrollment-secret"
      />
    </form>
  );
}

/**
 * Revokes one token: an API token (DELETE /api/v1/api-tokens/:id, it stops working at once) or an
 * enrollment token (DELETE /api/v1/enrollment-tokens/:id; agents enrolled with it stay).
 */
export function RevokeToken({
  kind,
  id,
  name,
}: {
  kind: 'api' | 'enrollment';
  id: string;
  name: string;
}) {
  const t = useTranslations(kind === 'api' ? 'admin.tokens' : 'admin.enrollment');
  const { busy, ready, outcome, run } = useApiChange<string>();
  const params = { path: { id } };
  return (
    <>
      <button
        type="button"
        disabled={busy || !ready}
        data-testid="token-revoke"
        aria-label={t('revokeNamed', { name })}
        onClick={() =>
          // The two routes answer differently; only the name is shown.
          void run<unknown>(
            () =>
              kind === 'api'
                ? browserApi().DELETE('/api/v1/api-tokens/{id}', { params })
                : browserApi().DELETE('/api/v1/enrollment-tokens/{id}', { params }),
            () => name,
          )
        }
      >
        {t('revoke')}
      </button>
      <ChangeMessage
        outcome={outcome}
        busy={busy}
        done={(n) => t('revoked', { name: n })}
        testId="token-message"
      />
    </>
  );
}

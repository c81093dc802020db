import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { InvalidInputError, NotFoundError } from '../common/domain-errors';
import type { AuthSettings } from '../config/auth-environment';
import { hashSecret } from '../enrollment/secrets';
import type { Actor } from '../users/users.service';
import type { AuthAudit } from './audit-port';
import type { Principal } from './principal';
import { isRole, Role } from './roles';

/**
 * Roles an API token may carry. Tokens are issued by secadmin; a token for an
 * administrator role would let the security administrator act as the system
 * or audit administrator (and skip their second factor), so there are none.
 */
export const API_TOKEN_ROLES: readonly Role[] = ['operator', 'viewer'];

export interface ApiTokenView {
  id: string;
  name: string;
  role: Role;
  createdBy: string | null;
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  lastUsedFrom: string | null;
}

interface Row {
  id: string;
  name: string;
  role: Role;
  created_by: string | null;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
  last_used_from: string | null;
}

const view = (r: Row): ApiTokenView => ({
  id: r.id,
  name: r.name,
  role: r.role,
  createdBy: r.created_by,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
  lastUsedAt: r.last_used_at,
  lastUsedFrom: r.last_used_from,
});

const COLUMNS = `id, name, role, created_by, created_at, expires_at, revoked_at, last_used_at, last_used_from`;

/** Integration tokens (`twt_…`): one role, an expiry, stored as SHA-256, revocable, last use kept. */
export class ApiTokensService {
  constructor(
    private readonly ds: DataSource,
    private readonly settings: AuthSettings,
    private readonly audit: AuthAudit,
  ) {}

  async create(
    actor: Actor,
    input: { name: string; role: string; expiresInDays?: number },
  ): Promise<{ token: string; view: ApiTokenView }> {
    if (!isRole(input.role) || !API_TOKEN_ROLES.includes(input.role)) {
      throw new InvalidInputError(
        `an API token's role must be one of ${API_TOKEN_ROLES.join(', ')}; got "${input.role}"`,
      );
    }
    const days = input.expiresInDays ?? this.settings.apiTokenDays;
    const token = `twt_${randomBytes(32).toString('base64url')}`;
    return this.ds.transaction(async (m) => {
      const rows: Row[] = await m.query(
        `INSERT INTO api_tokens (id, name, role, token_hash, created_by, expires_at)
         VALUES ($1, $2, $3, $4, $5, now() + make_interval(days => $6)) RETURNING ${COLUMNS}`,
        [randomUUID(), input.name, input.role, hashSecret(token), actor.name, days],
      );
      await this.audit.recordIn(m, {
        actor: actor.name,
        actorRole: actor.role,
        source: actor.source ?? null,
        requestId: actor.requestId ?? null,
        action: 'api_token.created',
        target: rows[0].id,
        outcome: 'success',
        details: {
          name: input.name,
          role: input.role,
          expiresAt: rows[0].expires_at.toISOString(),
        },
      });
      return { token, view: view(rows[0]) };
    });
  }

  async list(): Promise<ApiTokenView[]> {
    const rows: Row[] = await this.ds.query(
      `SELECT ${COLUMNS} FROM api_tokens ORDER BY created_at`,
    );
    return rows.map(view);
  }

  async revoke(actor: Actor, id: string): Promise<ApiTokenView> {
    return this.ds.transaction(async (m) => {
      const [rows]: [Row[], number] = await m.query(
        `UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING ${COLUMNS}`,
        [id],
      );
      if (!rows.length) throw new NotFoundError(`no API token ${id}`);
      await this.audit.recordIn(m, {
        actor: actor.name,
        actorRole: actor.role,
        source: actor.source ?? null,
        requestId: actor.requestId ?? null,
        action: 'api_token.revoked',
        target: id,
        outcome: 'success',
        details: { name: rows[0].name },
      });
      return view(rows[0]);
    });
  }

  /** The live token's principal (recording this use), or null. */
  async authenticate(token: string, from: string | null): Promise<Principal | null> {
    const [rows]: [Row[], number] = await this.ds.query(
      `UPDATE api_tokens SET last_used_at = now(), last_used_from = $2
        WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now() RETURNING ${COLUMNS}`,
      [hashSecret(token), from],
    );
    if (!rows.length) return null;
    const r = rows[0];
    return {
      kind: 'token',
      id: r.id,
      userId: null,
      name: `token:${r.name}`,
      role: r.role,
      pending: null,
      expiresAt: r.expires_at,
    };
  }
}

import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { BadEnrollmentTokenError, NotFoundError } from '../common/domain-errors';
import { EnrollmentTokenEntity } from './enrollment-token.entity';
import { hashSecret, newSecret } from './secrets';

export interface CreatedToken {
  id: string;
  name: string;
  token: string;
  expiresAt: Date | null;
  maxUses: number | null;
}

@Injectable()
export class EnrollmentService {
  constructor(private readonly ds: DataSource) {}

  /** Creates a token; `em` puts the insert in the caller's transaction (with its audit entry). */
  async create(
    name: string,
    ttlMs: number | null,
    maxUses: number | null,
    em: EntityManager = this.ds.manager,
  ): Promise<CreatedToken> {
    const token = newSecret('twe');
    const repo = em.getRepository(EnrollmentTokenEntity);
    const row = repo.create({
      id: randomUUID(),
      name,
      tokenHash: hashSecret(token),
      createdAt: new Date(),
      expiresAt: ttlMs === null ? null : new Date(Date.now() + ttlMs),
      maxUses,
      uses: 0,
      revokedAt: null,
    });
    await repo.insert(row);
    return { id: row.id, name, token, expiresAt: row.expiresAt, maxUses };
  }

  list(): Promise<EnrollmentTokenEntity[]> {
    return this.ds.getRepository(EnrollmentTokenEntity).find({ order: { createdAt: 'ASC' } });
  }

  /** Revokes by id or by name (every live token with that name). */
  async revoke(idOrName: string, em: EntityManager = this.ds.manager): Promise<number> {
    const isUuid = /^[0-9a-f-]{36}$/i.test(idOrName);
    const res: [unknown[], number] = await em.query(
      `UPDATE enrollment_tokens SET revoked_at = now()
        WHERE revoked_at IS NULL AND (${isUuid ? 'id = $1::uuid' : 'name = $1'})`,
      [idOrName],
    );
    if (res[1] === 0)
      throw new NotFoundError(`no live enrollment token with id or name "${idOrName}"`);
    return res[1];
  }

  /** Counts one use of a token inside the caller's transaction; throws when it cannot be used. */
  /**
   * Whether `token` is the (unrevoked) token that enrolled the agent as
   * `tokenId`: the same agent retrying an enrollment whose answer it never
   * received. Costs the token no use, however many uses it had.
   */
  async isToken(em: EntityManager, token: string, tokenId: string): Promise<boolean> {
    const rows: unknown[] = await em.query(
      `SELECT 1 FROM enrollment_tokens WHERE id = $1 AND token_hash = $2 AND revoked_at IS NULL`,
      [tokenId, hashSecret(token)],
    );
    return rows.length === 1;
  }

  async consume(em: EntityManager, token: string): Promise<string> {
    const hash = hashSecret(token);
    // TypeORM answers UPDATE with [rows, rowCount].
    const [used]: [{ id: string }[], number] = await em.query(
      `UPDATE enrollment_tokens SET uses = uses + 1
        WHERE token_hash = $1 AND revoked_at IS NULL
          AND (expires_at IS NULL OR expires_at > now())
          AND (max_uses IS NULL OR uses < max_uses)
        RETURNING id`,
      [hash],
    );
    if (used.length === 1) return used[0].id;
    const rows: { revoked: boolean; expired: boolean }[] = await em.query(
      `SELECT revoked_at IS NOT NULL AS revoked, expires_at <= now() AS expired
         FROM enrollment_tokens WHERE token_hash = $1`,
      [hash],
    );
    if (rows.length === 0) throw new BadEnrollmentTokenError('enrollment token is not valid');
    if (rows[0].revoked) throw new BadEnrollmentTokenError('enrollment token was revoked');
    if (rows[0].expired) throw new BadEnrollmentTokenError('enrollment token has expired');
    throw new BadEnrollmentTokenError('enrollment token has no uses left');
  }
}

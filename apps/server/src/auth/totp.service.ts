import { authenticator } from 'otplib';
import { DataSource } from 'typeorm';
import { DomainError } from '../common/domain-errors';
import type { AuthSettings } from '../config/auth-environment';
import { open, seal } from './secret-box';

export class TotpUnavailableError extends DomainError {
  override name = 'TotpUnavailableError';
  readonly kind = 'unavailable';
}

export class TotpStateError extends DomainError {
  override name = 'TotpStateError';
  readonly kind = 'conflict';
}

const STEP_SECONDS = 30;
const ISSUER = 'Tidewatch';

// RFC 6238: SHA-1, 6 digits, 30 s steps (what every authenticator app
// supports); one step either side is accepted for clock drift.
authenticator.options = { step: STEP_SECONDS, digits: 6, window: 1 };

/**
 * TOTP second factor. A code is accepted once: the step it belongs to is
 * stored, and only later steps are accepted afterwards (so a code seen over a
 * shoulder or in a proxy log cannot be replayed, not even within its 30 s).
 */
export class TotpService {
  constructor(
    private readonly ds: DataSource,
    private readonly settings: AuthSettings,
  ) {}

  private key(): Buffer {
    if (!this.settings.totpKey) {
      throw new TotpUnavailableError(
        'TOTP is not configured on this server: set AUTH_TOTP_KEY_FILE to a file holding a 32-byte key',
      );
    }
    return this.settings.totpKey;
  }

  /** Starts (or restarts) enrolment: a new secret, shown once as an otpauth:// URI. */
  async begin(userId: string, username: string): Promise<{ otpauthUri: string; secret: string }> {
    const key = this.key();
    const rows: { totp_enrolled_at: Date | null }[] = await this.ds.query(
      `SELECT totp_enrolled_at FROM users WHERE id = $1`,
      [userId],
    );
    if (rows[0]?.totp_enrolled_at) {
      throw new TotpStateError(
        'TOTP is already enrolled; a security administrator resets it (users reset --totp)',
      );
    }
    const secret = authenticator.generateSecret(20);
    await this.ds.query(`UPDATE users SET totp_pending_secret = $2 WHERE id = $1`, [
      userId,
      seal(key, Buffer.from(secret, 'utf8'), userId),
    ]);
    return { otpauthUri: authenticator.keyuri(username, ISSUER, secret), secret };
  }

  /** Confirms enrolment with a code from the new secret; the code counts as used. */
  async confirm(userId: string, code: string): Promise<boolean> {
    const key = this.key();
    const rows: { totp_pending_secret: Buffer | null }[] = await this.ds.query(
      `SELECT totp_pending_secret FROM users WHERE id = $1`,
      [userId],
    );
    const pending = rows[0]?.totp_pending_secret;
    if (!pending) throw new TotpStateError('no TOTP enrolment in progress: start one first');
    const secret = open(key, pending, userId).toString('utf8');
    const step = matchingStep(code, secret);
    if (step === null) return false;
    const [, n]: [unknown, number] = await this.ds.query(
      `UPDATE users SET totp_secret = totp_pending_secret, totp_pending_secret = NULL,
              totp_enrolled_at = now(), totp_last_step = $2
        WHERE id = $1 AND totp_pending_secret = $3`,
      [userId, step, pending],
    );
    return n === 1;
  }

  /** Checks a sign-in code and burns its step; false for a wrong or already used code. */
  async verify(userId: string, code: string | undefined): Promise<boolean> {
    if (!code) return false;
    const rows: { totp_secret: Buffer | null }[] = await this.ds.query(
      `SELECT totp_secret FROM users WHERE id = $1`,
      [userId],
    );
    const sealed = rows[0]?.totp_secret;
    if (!sealed) return false;
    const step = matchingStep(code, open(this.key(), sealed, userId).toString('utf8'));
    if (step === null) return false;
    // Atomic: of two requests with the same code, one wins.
    const [, n]: [unknown, number] = await this.ds.query(
      `UPDATE users SET totp_last_step = $2
        WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)`,
      [userId, step],
    );
    return n === 1;
  }
}

/** The time step whose code this is (within the window), or null. */
export function matchingStep(code: string, secret: string, now = Date.now()): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = authenticator.checkDelta(code, secret);
  if (delta === null) return null;
  return Math.floor(now / 1000 / STEP_SECONDS) + delta;
}

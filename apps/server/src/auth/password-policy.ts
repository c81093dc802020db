import { randomBytes } from 'node:crypto';
import { InvalidInputError } from '../common/domain-errors';
import type { AuthSettings } from '../config/auth-environment';

export class WeakPasswordError extends InvalidInputError {
  override name = 'WeakPasswordError';
}

/** Length (AUTH_PASSWORD_MIN_LENGTH), not the username, not only one kind of character. */
export function checkPasswordPolicy(
  password: string,
  username: string,
  settings: Pick<AuthSettings, 'passwordMinLength'>,
): void {
  if ([...password].length < settings.passwordMinLength) {
    throw new WeakPasswordError(
      `password must be at least ${settings.passwordMinLength} characters long`,
    );
  }
  if ([...password].length > 1024) throw new WeakPasswordError('password is too long');
  if (password.toLowerCase().includes(username.toLowerCase())) {
    throw new WeakPasswordError('password must not contain the username');
  }
  if (new Set(password).size < 5) {
    throw new WeakPasswordError('password must use at least 5 different characters');
  }
}

/** A generated first password: 120 random bits, shown once. */
export function generatePassword(): string {
  return randomBytes(15).toString('base64url');
}

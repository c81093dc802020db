import { randomBytes } from 'node:crypto';
import { InvalidInputError } from '../common/domain-errors';
import type { SignInPolicy } from './policy/sign-in-policy';

export class WeakPasswordError extends InvalidInputError {
  override name = 'WeakPasswordError';
}

/** Length (the policy's passwordMinLength), not the username, not only one kind of character. */
export function checkPasswordPolicy(
  password: string,
  username: string,
  settings: Pick<SignInPolicy, 'passwordMinLength'>,
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

import { SetMetadata } from '@nestjs/common';

export const ALLOW_PENDING = 'tidewatch:allow-pending';

/**
 * Admits a session that must still change its password or enrol TOTP (sign-in
 * routes only: me, logout, password, TOTP enrolment). Every other route refuses it.
 */
export const AllowPending = () => SetMetadata(ALLOW_PENDING, true);

import { SetMetadata } from '@nestjs/common';
import type { Role } from './roles';

export const ROLES_KEY = 'tidewatch:roles';

/**
 * The roles a route (or live-feed message handler) admits. Every route carries
 * either this or @Public(); the boot check refuses to start otherwise (deny by default).
 */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);

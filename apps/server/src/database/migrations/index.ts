import { Initial1795682467000 } from './1795682467000-initial';

/** Every migration, in order. Listed explicitly so that ts-jest and dist load the same set. */
export const MIGRATIONS = [Initial1795682467000];

import { EnrollmentTokenEntity } from '../enrollment/enrollment-token.entity';

/**
 * Every TypeORM entity: the enrollment tokens, which EnrollmentService reads and writes through
 * a TypeORM repository. Every other table is plain SQL in the module that owns it (hosts:
 * hosts/hosts.repository.ts; the time series: storage/series.ts); the schema is the committed,
 * hand-written migrations, never generated from entities (synchronize is off).
 */
export const ENTITIES = [EnrollmentTokenEntity];

import { MigrationInterface, QueryRunner } from 'typeorm';

// A credential issued at enrollment is "unconfirmed" until the agent shows it
// has it: a Hello with that credential, or a window stored on the enrollment
// stream. Until then (and for ENROLLMENT_RETRY_MINUTES at most) the same token
// may enroll the same agent id again, so an agent whose Welcome was lost (a
// loaded server past its wait) is not locked out until `agents reset`.
export class EnrollmentRetry1795750000000 implements MigrationInterface {
  name = 'EnrollmentRetry1795750000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE hosts ADD COLUMN credential_unconfirmed_since timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE hosts DROP COLUMN credential_unconfirmed_since`);
  }
}

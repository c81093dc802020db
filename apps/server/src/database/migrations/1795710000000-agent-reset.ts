import { MigrationInterface, QueryRunner } from 'typeorm';

// An enrolled agent id can no longer be claimed with an enrollment token: only its own
// credential (or certificate) speaks for it, unless an administrator ran
// `agents reset <id>`, which sets reenroll_allowed_at; the next enrollment clears it.
export class AgentReset1795710000000 implements MigrationInterface {
  name = 'AgentReset1795710000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE hosts ADD COLUMN reenroll_allowed_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE hosts DROP COLUMN reenroll_allowed_at`);
  }
}

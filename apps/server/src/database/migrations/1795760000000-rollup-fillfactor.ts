import { MigrationInterface, QueryRunner } from 'typeorm';

// Rollup rows are updated by every flush that adds to their bucket. Pages
// left 30 % free let those updates stay on the page without new index entries
// (HOT). New partitions are created with it (storage/partitions.ts); this sets
// it on the rollup partitions that exist already (their new pages get it).
const ROLLUPS = [
  'traffic',
  'rates',
  'ports',
  'talkers',
  'drops',
  'abnormal',
  'windows',
  'durations',
].flatMap((s) => [`${s}_1m`, `${s}_1h`]);

async function partitionsOf(q: QueryRunner): Promise<string[]> {
  const rows = (await q.query(
    `SELECT c.relname FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
      WHERE p.relname = ANY($1::text[]) AND c.relkind = 'r'`,
    [ROLLUPS],
  )) as { relname: string }[];
  return rows.map((r) => r.relname);
}

export class RollupFillfactor1795760000000 implements MigrationInterface {
  name = 'RollupFillfactor1795760000000';

  async up(q: QueryRunner): Promise<void> {
    for (const t of await partitionsOf(q)) await q.query(`ALTER TABLE ${t} SET (fillfactor = 70)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of await partitionsOf(q)) await q.query(`ALTER TABLE ${t} RESET (fillfactor)`);
  }
}

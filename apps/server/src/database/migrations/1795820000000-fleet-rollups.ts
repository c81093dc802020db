import { MigrationInterface, QueryRunner } from 'typeorm';

// Fleet rollups: traffic, ports and talkers summed over every host, per window start
// ('raw'), minute, hour and UTC day, so that the fleet-wide dashboard reads a row per
// bucket and key instead of one per host. No agent_id: they are derived from the
// per-agent tables (storage/fleet-rollups.ts) and can be rebuilt from them; partitioned
// like the tables they come from, so retention drops them together.
// fleet_rollup_state: per source resolution, the buckets before sealed_to are closed (a
// write into one marks it dirty) and those before summed_to are summed. fleet_rollup_dirty:
// a row per late write into a sealed bucket (no key: writers only insert, never wait on
// each other); the derivation recomputes those buckets and deletes the rows it saw.
const SHAPES: Record<string, { dims: string; values: string; key: string }> = {
  traffic: {
    dims: 'iface text NOT NULL, direction smallint NOT NULL, family smallint NOT NULL, protocol smallint NOT NULL',
    values: 'packets bigint NOT NULL, bytes bigint NOT NULL',
    key: 'iface, direction, family, protocol',
  },
  ports: {
    dims: 'port integer NOT NULL, protocol smallint NOT NULL',
    values:
      'packets bigint NOT NULL, bytes bigint NOT NULL, connections bigint NOT NULL, abnormal boolean NOT NULL',
    key: 'port, protocol',
  },
  talkers: {
    dims: 'src text NOT NULL, dst text NOT NULL, protocol smallint NOT NULL',
    values: 'packets bigint NOT NULL, bytes bigint NOT NULL',
    key: 'src, dst, protocol',
  },
};
const RESOLUTIONS = ['raw', '1m', '1h', '1d'];

export class FleetRollups1795820000000 implements MigrationInterface {
  name = 'FleetRollups1795820000000';

  async up(q: QueryRunner): Promise<void> {
    for (const [name, s] of Object.entries(SHAPES))
      for (const r of RESOLUTIONS)
        await q.query(`CREATE TABLE ${name}_fleet_${r} (
          bucket timestamptz NOT NULL,
          ${s.dims},
          ${s.values},
          PRIMARY KEY (bucket, ${s.key})
        ) PARTITION BY RANGE (bucket)`);
    await q.query(`CREATE TABLE fleet_rollup_state (
      resolution text PRIMARY KEY CHECK (resolution IN ('raw', '1m', '1h')),
      sealed_to timestamptz,
      summed_to timestamptz,
      CHECK (summed_to <= sealed_to)
    )`);
    await q.query(`INSERT INTO fleet_rollup_state (resolution) VALUES ('raw'), ('1m'), ('1h')`);
    await q.query(`CREATE TABLE fleet_rollup_dirty (
      resolution text NOT NULL,
      bucket timestamptz NOT NULL,
      marked_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(
      `CREATE INDEX fleet_rollup_dirty_bucket ON fleet_rollup_dirty (resolution, bucket)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE fleet_rollup_dirty`);
    await q.query(`DROP TABLE fleet_rollup_state`);
    for (const name of Object.keys(SHAPES))
      for (const r of RESOLUTIONS) await q.query(`DROP TABLE ${name}_fleet_${r}`);
  }
}

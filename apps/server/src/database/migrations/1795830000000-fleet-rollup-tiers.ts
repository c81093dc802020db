import { MigrationInterface, QueryRunner } from 'typeorm';

// Coarser fleet tiers for totals (storage/series.ts, FLEET_TIERS): `*_fleet_10m` sums the
// fleet's 1 min rows of one 10-minute block; `*_fleet_6h` and `*_fleet_7d` its 1 h rows of
// one 6-hour block and of one month-week (days 1–7, 8–14, 15–21, 22–28, 29–end of a UTC
// month: a block never spans two monthly partitions), as `*_fleet_1d` does for days. Without
// them a 30-day top-talkers total summed ~190 rows per address pair (pairs do not collapse
// across hosts); with them ~40.
// The tiers hold a row for every block wholly summed: so that the history already summed
// gets its blocks too, the 1 min and 1 h fleet rollups are summed again from the start
// (summed_to reset; the next passes re-derive them, replacing the rows they hold). Until
// then fleet queries read those ranges from the per-agent tables: slower, still exact.
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
const TIERS = ['10m', '6h', '7d'];

export class FleetRollupTiers1795830000000 implements MigrationInterface {
  name = 'FleetRollupTiers1795830000000';

  async up(q: QueryRunner): Promise<void> {
    for (const [name, s] of Object.entries(SHAPES))
      for (const r of TIERS)
        await q.query(`CREATE TABLE ${name}_fleet_${r} (
          bucket timestamptz NOT NULL,
          ${s.dims},
          ${s.values},
          PRIMARY KEY (bucket, ${s.key})
        ) PARTITION BY RANGE (bucket)`);
    await q.query(
      `UPDATE fleet_rollup_state SET summed_to = NULL WHERE resolution IN ('1m', '1h')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const name of Object.keys(SHAPES))
      for (const r of TIERS) await q.query(`DROP TABLE ${name}_fleet_${r}`);
  }
}

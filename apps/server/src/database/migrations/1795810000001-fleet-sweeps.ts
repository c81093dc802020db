import { MigrationInterface, QueryRunner } from 'typeorm';

// The fleet-wide sweep tracker (one source failing on one port across many
// hosts) moves from each replica's memory into PostgreSQL, so that windows of
// one sweep served by different replicas add up. fleet_sweeps holds one row
// per (protocol, source, port): the row every detection of that key locks, so
// replicas count and raise it one at a time. fleet_sweep_hosts holds the hosts
// that saw it fail and when (window end); rows past regroupSeconds are ignored
// and deleted as the key is seen again, whole keys by the detector's expiry.
// The partial index finds a key's live fleet-wide incident under whichever
// host it was filed.
export class FleetSweeps1795810000001 implements MigrationInterface {
  name = 'FleetSweeps1795810000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE fleet_sweeps (
      protocol text NOT NULL,
      source text NOT NULL,
      port integer NOT NULL,
      last_seen timestamptz NOT NULL,
      PRIMARY KEY (protocol, source, port)
    )`);
    await q.query(`CREATE INDEX fleet_sweeps_last_seen ON fleet_sweeps (last_seen)`);
    await q.query(`CREATE TABLE fleet_sweep_hosts (
      protocol text NOT NULL,
      source text NOT NULL,
      port integer NOT NULL,
      agent_id uuid NOT NULL REFERENCES hosts (agent_id) ON DELETE CASCADE,
      last_seen timestamptz NOT NULL,
      PRIMARY KEY (protocol, source, port, agent_id),
      FOREIGN KEY (protocol, source, port) REFERENCES fleet_sweeps ON DELETE CASCADE
    )`);
    await q.query(`CREATE INDEX fleet_sweep_hosts_agent ON fleet_sweep_hosts (agent_id)`);
    await q.query(`CREATE INDEX anomalies_fleet_live ON anomalies (type, group_key)
                   WHERE group_key LIKE 'fleet|%' AND status IN ('open', 'acknowledged', 'suppressed')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX anomalies_fleet_live`);
    await q.query(`DROP TABLE fleet_sweep_hosts`);
    await q.query(`DROP TABLE fleet_sweeps`);
  }
}

import { MigrationInterface, QueryRunner } from 'typeorm';

// Anomaly detection: the detectors' per-window inputs (scan figures), the
// listening ports each host has shown, learned baselines, thresholds
// (fleet-wide and per label) and the anomalies themselves with their lifecycle.
export class Anomalies1795720000000 implements MigrationInterface {
  name = 'Anomalies1795720000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE scan_windows (
      agent_id uuid NOT NULL REFERENCES hosts (agent_id) ON DELETE CASCADE,
      window_start timestamptz NOT NULL,
      window_end timestamptz NOT NULL,
      scan jsonb NOT NULL,
      PRIMARY KEY (agent_id, window_start)
    )`);
    await q.query(`CREATE INDEX scan_windows_start ON scan_windows (window_start)`);
    await q.query(`CREATE TABLE listening_ports (
      agent_id uuid NOT NULL REFERENCES hosts (agent_id) ON DELETE CASCADE,
      protocol smallint NOT NULL,
      port integer NOT NULL,
      loopback_only boolean NOT NULL,
      first_seen timestamptz NOT NULL,
      last_seen timestamptz NOT NULL,
      PRIMARY KEY (agent_id, protocol, port)
    )`);
    await q.query(`CREATE TABLE anomaly_baselines (
      agent_id uuid NOT NULL REFERENCES hosts (agent_id) ON DELETE CASCADE,
      series text NOT NULL,
      state jsonb NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (agent_id, series)
    )`);
    await q.query(`CREATE TABLE anomaly_thresholds (
      scope text PRIMARY KEY,
      thresholds jsonb NOT NULL,
      updated_by text,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE TABLE anomalies (
      id bigserial PRIMARY KEY,
      agent_id uuid NOT NULL REFERENCES hosts (agent_id) ON DELETE CASCADE,
      type text NOT NULL,
      severity text NOT NULL,
      status text NOT NULL DEFAULT 'open',
      group_key text NOT NULL,
      summary text NOT NULL,
      first_seen timestamptz NOT NULL,
      last_seen timestamptz NOT NULL,
      windows integer NOT NULL DEFAULT 1,
      evidence jsonb NOT NULL,
      acknowledged_by text,
      acknowledged_at timestamptz,
      resolved_by text,
      resolved_at timestamptz,
      suppressed_by text,
      suppressed_at timestamptz,
      suppressed_until timestamptz,
      suppress_reason text,
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK (status IN ('open', 'acknowledged', 'resolved', 'suppressed'))
    )`);
    // One live incident per (host, type, key): repeats update it instead of raising again.
    await q.query(`CREATE UNIQUE INDEX anomalies_live ON anomalies (agent_id, type, group_key)
                   WHERE status IN ('open', 'acknowledged', 'suppressed')`);
    await q.query(`CREATE INDEX anomalies_last_seen ON anomalies (last_seen DESC, id DESC)`);
    await q.query(`CREATE INDEX anomalies_agent ON anomalies (agent_id, last_seen DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE anomalies`);
    await q.query(`DROP TABLE anomaly_thresholds`);
    await q.query(`DROP TABLE anomaly_baselines`);
    await q.query(`DROP TABLE listening_ports`);
    await q.query(`DROP TABLE scan_windows`);
  }
}

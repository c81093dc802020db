import { MigrationInterface, QueryRunner } from 'typeorm';

// Operator-set agent configuration (versioned) and what the agents reported
// applying; batches an agent's spool dropped before they were stored
// (Hello.oldest_sequence); connection-duration histograms as their own time series, keyed
// by their bucket bounds so that only histograms with equal bounds are added.
export class AgentConfigAndDurations1795685678000 implements MigrationInterface {
  name = 'AgentConfigAndDurations1795685678000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE agent_configs (
      agent_id uuid PRIMARY KEY REFERENCES hosts (agent_id) ON DELETE CASCADE,
      version bigint NOT NULL,
      window_seconds integer NOT NULL,
      top_n integer NOT NULL,
      port_allowlist integer[] NOT NULL,
      masking text NOT NULL,
      max_flows_per_window integer NOT NULL,
      cpu_budget_percent double precision NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`ALTER TABLE hosts
      ADD COLUMN config_applied_version bigint,
      ADD COLUMN config_applied_ok boolean,
      ADD COLUMN config_applied_error text,
      ADD COLUMN config_applied_at timestamptz,
      ADD COLUMN lost_batches bigint NOT NULL DEFAULT 0`);
    await q.query(`CREATE TABLE sequence_gaps (
      agent_id uuid NOT NULL REFERENCES hosts (agent_id) ON DELETE CASCADE,
      first_sequence bigint NOT NULL,
      last_sequence bigint NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (agent_id, first_sequence)
    )`);
    // Element-wise sum of two equally long counter arrays (histogram buckets).
    await q.query(`CREATE FUNCTION tw_array_add(a bigint[], b bigint[]) RETURNS bigint[]
      LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
      $$ SELECT array_agg(coalesce(x, 0) + coalesce(y, 0) ORDER BY i)
           FROM unnest(a, b) WITH ORDINALITY AS u(x, y, i) $$`);
    await q.query(`CREATE AGGREGATE tw_sum_array(bigint[]) (
      SFUNC = tw_array_add, STYPE = bigint[], COMBINEFUNC = tw_array_add, PARALLEL = SAFE)`);
    await q.query(`CREATE TABLE durations_raw (
        agent_id uuid NOT NULL,
        window_start timestamptz NOT NULL,
        bounds double precision[] NOT NULL,
        counts bigint[] NOT NULL,
        sum_ms double precision NOT NULL
      ) PARTITION BY RANGE (window_start)`);
    await q.query(
      `CREATE INDEX durations_raw_agent_time ON durations_raw (agent_id, window_start)`,
    );
    await q.query(`CREATE INDEX durations_raw_time ON durations_raw (window_start)`);
    for (const r of ['1m', '1h']) {
      await q.query(`CREATE TABLE durations_${r} (
          agent_id uuid NOT NULL,
          bucket timestamptz NOT NULL,
          bounds double precision[] NOT NULL,
          windows bigint NOT NULL,
          counts bigint[] NOT NULL,
          sum_ms double precision NOT NULL,
          PRIMARY KEY (agent_id, bucket, bounds)
        ) PARTITION BY RANGE (bucket)`);
      await q.query(`CREATE INDEX durations_${r}_bucket ON durations_${r} (bucket)`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE durations_1h`);
    await q.query(`DROP TABLE durations_1m`);
    await q.query(`DROP TABLE durations_raw`);
    await q.query(`DROP AGGREGATE tw_sum_array(bigint[])`);
    await q.query(`DROP FUNCTION tw_array_add(bigint[], bigint[])`);
    await q.query(`DROP TABLE sequence_gaps`);
    await q.query(`ALTER TABLE hosts
      DROP COLUMN lost_batches,
      DROP COLUMN config_applied_version,
      DROP COLUMN config_applied_ok,
      DROP COLUMN config_applied_error,
      DROP COLUMN config_applied_at`);
    await q.query(`DROP TABLE agent_configs`);
  }
}

import { MigrationInterface, QueryRunner } from 'typeorm';

// The first schema: agents and enrollment tokens (TypeORM entities), and the
// time-series tables (raw + 1 min + 1 h rollups), declaratively partitioned by
// range on time. Partitions are created by the maintenance job, not here.
export class Initial1795682467000 implements MigrationInterface {
  name = 'Initial1795682467000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE enrollment_tokens (
      id uuid PRIMARY KEY,
      name text NOT NULL,
      token_hash bytea NOT NULL UNIQUE,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz,
      max_uses integer,
      uses integer NOT NULL DEFAULT 0,
      revoked_at timestamptz
    )`);
    await q.query(`CREATE TABLE hosts (
      agent_id uuid PRIMARY KEY,
      hostname text NOT NULL,
      agent_version text NOT NULL DEFAULT '',
      kernel_release text NOT NULL DEFAULT '',
      capabilities jsonb NOT NULL DEFAULT '[]',
      interfaces jsonb NOT NULL DEFAULT '[]',
      labels jsonb NOT NULL DEFAULT '{}',
      masking text NOT NULL DEFAULT 'MASKING_UNSPECIFIED',
      config_version bigint NOT NULL DEFAULT 0,
      started_at timestamptz,
      credential_hash bytea,
      enrollment_token_id uuid REFERENCES enrollment_tokens (id) ON DELETE SET NULL,
      enrolled_at timestamptz NOT NULL DEFAULT now(),
      revoked_at timestamptz,
      last_seen_at timestamptz,
      last_batch_at timestamptz,
      highest_sequence bigint NOT NULL DEFAULT 0,
      health jsonb
    )`);
    await q.query(`CREATE INDEX hosts_labels ON hosts USING gin (labels jsonb_path_ops)`);
    await q.query(`CREATE INDEX hosts_last_seen ON hosts (last_seen_at)`);
    await q.query(`CREATE TABLE traffic_raw (
        agent_id uuid NOT NULL,
        window_start timestamptz NOT NULL,
        iface text NOT NULL,
        direction smallint NOT NULL,
        family smallint NOT NULL,
        protocol smallint NOT NULL,
        packets bigint NOT NULL,
        bytes bigint NOT NULL
      ) PARTITION BY RANGE (window_start)`);
    await q.query(`CREATE INDEX traffic_raw_agent_time ON traffic_raw (agent_id, window_start)`);
    await q.query(`CREATE TABLE traffic_1m (
        agent_id uuid NOT NULL,
        bucket timestamptz NOT NULL,
        iface text NOT NULL,
        direction smallint NOT NULL,
        family smallint NOT NULL,
        protocol smallint NOT NULL,
        packets bigint NOT NULL,
        bytes bigint NOT NULL,
        PRIMARY KEY (agent_id, bucket, iface, direction, family, protocol)
      ) PARTITION BY RANGE (bucket)`);
    await q.query(`CREATE TABLE traffic_1h (
        agent_id uuid NOT NULL,
        bucket timestamptz NOT NULL,
        iface text NOT NULL,
        direction smallint NOT NULL,
        family smallint NOT NULL,
        protocol smallint NOT NULL,
        packets bigint NOT NULL,
        bytes bigint NOT NULL,
        PRIMARY KEY (agent_id, bucket, iface, direction, family, protocol)
      ) PARTITION BY RANGE (bucket)`);
    await q.query(`CREATE TABLE rates_raw (
        agent_id uuid NOT NULL,
        window_start timestamptz NOT NULL,
        iface text NOT NULL,
        direction smallint NOT NULL,
        avg_pps double precision NOT NULL,
        peak_pps double precision NOT NULL,
        avg_bps double precision NOT NULL,
        peak_bps double precision NOT NULL
      ) PARTITION BY RANGE (window_start)`);
    await q.query(`CREATE INDEX rates_raw_agent_time ON rates_raw (agent_id, window_start)`);
    await q.query(`CREATE TABLE rates_1m (
        agent_id uuid NOT NULL,
        bucket timestamptz NOT NULL,
        iface text NOT NULL,
        direction smallint NOT NULL,
        peak_pps double precision NOT NULL,
        peak_bps double precision NOT NULL,
        PRIMARY KEY (agent_id, bucket, iface, direction)
      ) PARTITION BY RANGE (bucket)`);
    await q.query(`CREATE TABLE rates_1h (
        agent_id uuid NOT NULL,
        bucket timestamptz NOT NULL,
        iface text NOT NULL,
        direction smallint NOT NULL,
        peak_pps double precision NOT NULL,
        peak_bps double precision NOT NULL,
        PRIMARY KEY (agent_id, bucket, iface, direction)
      ) PARTITION BY RANGE (bucket)`);
    await q.query(`CREATE TABLE ports_raw (
        agent_id uuid NOT NULL,
        window_start timestamptz NOT NULL,
        port integer NOT NULL,
        protocol smallint NOT NULL,
        packets bigint NOT NULL,
        bytes bigint NOT NULL,
        connections bigint NOT NULL,
        abnormal boolean NOT NULL
      ) PARTITION BY RANGE (window_start)`);
    await q.query(`CREATE INDEX ports_raw_agent_time ON ports_raw (agent_id, window_start)`);
    await q.query(`CREATE TABLE ports_1m (
        agent_id uuid NOT NULL,
        bucket timestamptz NOT NULL,
        port integer NOT NULL,
        protocol smallint NOT NULL,
        packets bigint NOT NULL,
        bytes bigint NOT NULL,
        connections bigint NOT NULL,
        abnormal boolean NOT NULL,
        PRIMARY KEY (agent_id, bucket, port, protocol)
      ) PARTITION BY RANGE (bucket)`);
    await q.query(`CREATE TABLE ports_1h (
        agent_id uuid NOT NULL,
        bucket timestamptz NOT NULL,
        port integer NOT NULL,
        protocol smallint NOT NULL,
        packets bigint NOT NULL,
        bytes bigint NOT NULL,
        connections bigint NOT NULL,
        abnormal boolean NOT NULL,
        PRIMARY KEY (agent_id, bucket, port, protocol)
      ) PARTITION BY RANGE (bucket)`);
    await q.query(`CREATE TABLE talkers_raw (
        agent_id uuid NOT NULL,
        window_start timestamptz NOT NULL,
        src text NOT NULL,
        dst text NOT NULL,
        protocol smallint NOT NULL,
        packets bigint NOT NULL,
        bytes bigint NOT NULL
      ) PARTITION BY RANGE (window_start)`);
    await q.query(`CREATE INDEX talkers_raw_agent_time ON talkers_raw (agent_id, window_start)`);
    await q.query(`CREATE TABLE talkers_1m (
        agent_id uuid NOT NULL,
        bucket timestamptz NOT NULL,
        src text NOT NULL,
        dst text NOT NULL,
        protocol smallint NOT NULL,
        packets bigint NOT NULL,
        bytes bigint NOT NULL,
        PRIMARY KEY (agent_id, bucket, src, dst, protocol)
      ) PARTITION BY RANGE (bucket)`);
    await q.query(`CREATE TABLE talkers_1h (
        agent_id uuid NOT NULL,
        bucket timestamptz NOT NULL,
        src text NOT NULL,
        dst text NOT NULL,
        protocol smallint NOT NULL,
        packets bigint NOT NULL,
        bytes bigint NOT NULL,
        PRIMARY KEY (agent_id, bucket, src, dst, protocol)
      ) PARTITION BY RANGE (bucket)`);
    await q.query(`CREATE TABLE drops_raw (
        agent_id uuid NOT NULL,
        window_start timestamptz NOT NULL,
        reason text NOT NULL,
        count bigint NOT NULL
      ) PARTITION BY RANGE (window_start)`);
    await q.query(`CREATE INDEX drops_raw_agent_time ON drops_raw (agent_id, window_start)`);
    await q.query(`CREATE TABLE drops_1m (
        agent_id uuid NOT NULL,
        bucket timestamptz NOT NULL,
        reason text NOT NULL,
        count bigint NOT NULL,
        PRIMARY KEY (agent_id, bucket, reason)
      ) PARTITION BY RANGE (bucket)`);
    await q.query(`CREATE TABLE drops_1h (
        agent_id uuid NOT NULL,
        bucket timestamptz NOT NULL,
        reason text NOT NULL,
        count bigint NOT NULL,
        PRIMARY KEY (agent_id, bucket, reason)
      ) PARTITION BY RANGE (bucket)`);
    await q.query(`CREATE TABLE abnormal_raw (
        agent_id uuid NOT NULL,
        window_start timestamptz NOT NULL,
        peer text NOT NULL,
        port integer NOT NULL,
        protocol smallint NOT NULL,
        direction smallint NOT NULL,
        connections bigint NOT NULL
      ) PARTITION BY RANGE (window_start)`);
    await q.query(`CREATE INDEX abnormal_raw_agent_time ON abnormal_raw (agent_id, window_start)`);
    await q.query(`CREATE TABLE abnormal_1m (
        agent_id uuid NOT NULL,
        bucket timestamptz NOT NULL,
        peer text NOT NULL,
        port integer NOT NULL,
        protocol smallint NOT NULL,
        direction smallint NOT NULL,
        connections bigint NOT NULL,
        PRIMARY KEY (agent_id, bucket, peer, port, protocol, direction)
      ) PARTITION BY RANGE (bucket)`);
    await q.query(`CREATE TABLE abnormal_1h (
        agent_id uuid NOT NULL,
        bucket timestamptz NOT NULL,
        peer text NOT NULL,
        port integer NOT NULL,
        protocol smallint NOT NULL,
        direction smallint NOT NULL,
        connections bigint NOT NULL,
        PRIMARY KEY (agent_id, bucket, peer, port, protocol, direction)
      ) PARTITION BY RANGE (bucket)`);
    await q.query(`CREATE TABLE windows_raw (
        agent_id uuid NOT NULL,
        window_start timestamptz NOT NULL,
        sequence bigint NOT NULL,
        window_end timestamptz NOT NULL,
        flows_sampled boolean NOT NULL,
        opened_client bigint NOT NULL,
        opened_server bigint NOT NULL,
        failed bigint NOT NULL,
        closed bigint NOT NULL,
        active bigint NOT NULL,
        peak_opened_per_second double precision NOT NULL,
        retransmits bigint NOT NULL,
        duration_sum_ms double precision NOT NULL,
        cpu_percent double precision NOT NULL,
        rss_bytes bigint NOT NULL,
        bpf_run_time_ns bigint NOT NULL,
        bpf_run_count bigint NOT NULL,
        spool_depth bigint NOT NULL,
        flow_table_full bigint NOT NULL,
        records_dropped bigint NOT NULL
      ) PARTITION BY RANGE (window_start)`);
    await q.query(`CREATE INDEX windows_raw_agent_time ON windows_raw (agent_id, window_start)`);
    await q.query(`CREATE TABLE windows_1m (
        agent_id uuid NOT NULL,
        bucket timestamptz NOT NULL,
        windows bigint NOT NULL,
        milliseconds bigint NOT NULL,
        opened_client bigint NOT NULL,
        opened_server bigint NOT NULL,
        failed bigint NOT NULL,
        closed bigint NOT NULL,
        active_sum bigint NOT NULL,
        active_max bigint NOT NULL,
        peak_opened_per_second double precision NOT NULL,
        retransmits bigint NOT NULL,
        duration_sum_ms double precision NOT NULL,
        cpu_max double precision NOT NULL,
        cpu_sum double precision NOT NULL,
        rss_max bigint NOT NULL,
        bpf_run_time_ns bigint NOT NULL,
        bpf_run_count bigint NOT NULL,
        flow_table_full bigint NOT NULL,
        records_dropped bigint NOT NULL,
        PRIMARY KEY (agent_id, bucket)
      ) PARTITION BY RANGE (bucket)`);
    await q.query(`CREATE TABLE windows_1h (
        agent_id uuid NOT NULL,
        bucket timestamptz NOT NULL,
        windows bigint NOT NULL,
        milliseconds bigint NOT NULL,
        opened_client bigint NOT NULL,
        opened_server bigint NOT NULL,
        failed bigint NOT NULL,
        closed bigint NOT NULL,
        active_sum bigint NOT NULL,
        active_max bigint NOT NULL,
        peak_opened_per_second double precision NOT NULL,
        retransmits bigint NOT NULL,
        duration_sum_ms double precision NOT NULL,
        cpu_max double precision NOT NULL,
        cpu_sum double precision NOT NULL,
        rss_max bigint NOT NULL,
        bpf_run_time_ns bigint NOT NULL,
        bpf_run_count bigint NOT NULL,
        flow_table_full bigint NOT NULL,
        records_dropped bigint NOT NULL,
        PRIMARY KEY (agent_id, bucket)
      ) PARTITION BY RANGE (bucket)`);
    // Fleet-wide queries select by time alone (no agent_id to lead the other index).
    await q.query(`CREATE INDEX traffic_raw_time ON traffic_raw (window_start)`);
    await q.query(`CREATE INDEX rates_raw_time ON rates_raw (window_start)`);
    await q.query(`CREATE INDEX ports_raw_time ON ports_raw (window_start)`);
    await q.query(`CREATE INDEX talkers_raw_time ON talkers_raw (window_start)`);
    await q.query(`CREATE INDEX drops_raw_time ON drops_raw (window_start)`);
    await q.query(`CREATE INDEX abnormal_raw_time ON abnormal_raw (window_start)`);
    await q.query(`CREATE INDEX windows_raw_time ON windows_raw (window_start)`);
    await q.query(`CREATE INDEX traffic_1m_bucket ON traffic_1m (bucket)`);
    await q.query(`CREATE INDEX traffic_1h_bucket ON traffic_1h (bucket)`);
    await q.query(`CREATE INDEX rates_1m_bucket ON rates_1m (bucket)`);
    await q.query(`CREATE INDEX rates_1h_bucket ON rates_1h (bucket)`);
    await q.query(`CREATE INDEX ports_1m_bucket ON ports_1m (bucket)`);
    await q.query(`CREATE INDEX ports_1h_bucket ON ports_1h (bucket)`);
    await q.query(`CREATE INDEX talkers_1m_bucket ON talkers_1m (bucket)`);
    await q.query(`CREATE INDEX talkers_1h_bucket ON talkers_1h (bucket)`);
    await q.query(`CREATE INDEX drops_1m_bucket ON drops_1m (bucket)`);
    await q.query(`CREATE INDEX drops_1h_bucket ON drops_1h (bucket)`);
    await q.query(`CREATE INDEX abnormal_1m_bucket ON abnormal_1m (bucket)`);
    await q.query(`CREATE INDEX abnormal_1h_bucket ON abnormal_1h (bucket)`);
    await q.query(`CREATE INDEX windows_1m_bucket ON windows_1m (bucket)`);
    await q.query(`CREATE INDEX windows_1h_bucket ON windows_1h (bucket)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE traffic_1m`);
    await q.query(`DROP TABLE traffic_1h`);
    await q.query(`DROP TABLE traffic_raw`);
    await q.query(`DROP TABLE rates_1m`);
    await q.query(`DROP TABLE rates_1h`);
    await q.query(`DROP TABLE rates_raw`);
    await q.query(`DROP TABLE ports_1m`);
    await q.query(`DROP TABLE ports_1h`);
    await q.query(`DROP TABLE ports_raw`);
    await q.query(`DROP TABLE talkers_1m`);
    await q.query(`DROP TABLE talkers_1h`);
    await q.query(`DROP TABLE talkers_raw`);
    await q.query(`DROP TABLE drops_1m`);
    await q.query(`DROP TABLE drops_1h`);
    await q.query(`DROP TABLE drops_raw`);
    await q.query(`DROP TABLE abnormal_1m`);
    await q.query(`DROP TABLE abnormal_1h`);
    await q.query(`DROP TABLE abnormal_raw`);
    await q.query(`DROP TABLE windows_1m`);
    await q.query(`DROP TABLE windows_1h`);
    await q.query(`DROP TABLE windows_raw`);
    await q.query(`DROP TABLE hosts`);
    await q.query(`DROP TABLE enrollment_tokens`);
  }
}

// Generated history for the benches (bench:reports, bench:console): hosts and their rollups
// written straight into the server's tables with generate_series — fast, and read back only
// through the server's own API. Needs a database the server has migrated.
'use strict';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The hosts of `ids`, named host-0001… in order, labelled env=test|prod alternately, seen now. */
async function insertHosts(db, ids, enrolledAt) {
  await db.query(
    `INSERT INTO hosts (agent_id, hostname, labels, masking, enrolled_at, last_seen_at)
     SELECT id, 'host-' || lpad(n::text, 4, '0'), jsonb_build_object('env', CASE WHEN n % 2 = 0 THEN 'prod' ELSE 'test' END),
            'MASKING_TRUNCATE', $2, now()
       FROM unnest($1::uuid[]) WITH ORDINALITY u(id, n)`,
    [ids, enrolledAt],
  );
}

/**
 * 1 h rollups over [from, to) (traffic 2 directions x 4 protocols, 5 ports, 4 talker pairs,
 * rates, windows), two listeners per host, and `anomalies` anomalies, half resolved.
 */
function monthsBetween(from, to) {
  const out = [];
  let m = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), 1));
  while (m < to) {
    out.push(m);
    m = new Date(Date.UTC(m.getUTCFullYear(), m.getUTCMonth() + 1, 1));
  }
  return out;
}

async function generateHistory(db, ids, from, to, { anomalies = 0, log = () => {} } = {}) {
  for (const m of monthsBetween(from, new Date(to.getTime() + DAY))) {
    const end = new Date(Date.UTC(m.getUTCFullYear(), m.getUTCMonth() + 1, 1));
    const y = m.getUTCFullYear();
    const mo = String(m.getUTCMonth() + 1).padStart(2, '0');
    for (const t of ['traffic_1h', 'rates_1h', 'ports_1h', 'talkers_1h', 'windows_1h']) {
      await db.query(
        `CREATE TABLE IF NOT EXISTS ${t}_p${y}${mo} PARTITION OF ${t}
           FOR VALUES FROM ('${m.toISOString()}') TO ('${end.toISOString()}')`,
      );
    }
  }
  const hours = `generate_series($2::timestamptz, $3::timestamptz - interval '1 hour', interval '1 hour') b(t)`;
  const args = [ids, from, to];
  const counts = {};
  const run = async (table, sql) => {
    const t0 = Date.now();
    const r = await db.query(sql, args);
    counts[table] = r.rowCount;
    log(`${table}: ${r.rowCount} rows in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  };
  await run(
    'traffic_1h',
    `INSERT INTO traffic_1h (agent_id, bucket, iface, direction, family, protocol, packets, bytes)
     SELECT a.id, b.t, 'eth0', d, 1, p, (1000 + random() * 1e6)::bigint, (1e5 + random() * 1e9)::bigint
       FROM unnest($1::uuid[]) a(id), ${hours}, generate_series(1, 2) d, generate_series(1, 4) p`,
  );
  await run(
    'rates_1h',
    `INSERT INTO rates_1h (agent_id, bucket, iface, direction, peak_pps, peak_bps)
     SELECT a.id, b.t, i, d, random() * 1e5, random() * 1e9
       FROM unnest($1::uuid[]) a(id), ${hours}, generate_series(1, 2) d, unnest(ARRAY['', 'eth0']) i`,
  );
  await run(
    'ports_1h',
    `INSERT INTO ports_1h (agent_id, bucket, port, protocol, packets, bytes, connections, abnormal)
     SELECT a.id, b.t, p, CASE WHEN p = 53 THEN 2 ELSE 1 END, (random() * 1e5)::bigint,
            (random() * 1e8)::bigint, (random() * 1e3)::bigint, p = 31337
       FROM unnest($1::uuid[]) a(id), ${hours}, unnest(ARRAY[22, 53, 443, 5432, 31337]) p`,
  );
  await run(
    'talkers_1h',
    `INSERT INTO talkers_1h (agent_id, bucket, src, dst, protocol, packets, bytes)
     SELECT a.id, b.t, '198.18.' || (abs(hashtext(a.id::text)) % 250) || '.' || k,
            '198.19.0.' || k, 1, (random() * 1e5)::bigint, (random() * 1e8)::bigint
       FROM unnest($1::uuid[]) a(id), ${hours}, generate_series(1, 4) k`,
  );
  await run(
    'windows_1h',
    `INSERT INTO windows_1h (agent_id, bucket, windows, milliseconds, opened_client, opened_server,
                             failed, closed, active_sum, active_max, peak_opened_per_second,
                             retransmits, duration_sum_ms, cpu_max, cpu_sum, rss_max,
                             bpf_run_time_ns, bpf_run_count, flow_table_full, records_dropped)
     SELECT a.id, b.t, 360, 3600000, (random() * 1e4)::bigint, (random() * 1e4)::bigint,
            (random() * 100)::bigint, (random() * 2e4)::bigint, (random() * 1e5)::bigint,
            (random() * 1e3)::bigint, random() * 100, (random() * 1e3)::bigint, random() * 1e7,
            random() * 3, random() * 360, 40000000, 1000000, 10000, 0, 0
       FROM unnest($1::uuid[]) a(id), ${hours}`,
  );
  await run(
    'listening_ports',
    `INSERT INTO listening_ports (agent_id, protocol, port, loopback_only, first_seen, last_seen)
     SELECT a.id, 1, p, false, $2, $2 FROM unnest($1::uuid[]) a(id), unnest(ARRAY[22, 443]) p
      WHERE $3::timestamptz IS NOT NULL`,
  );
  await db.query(
    `INSERT INTO anomalies (agent_id, type, severity, status, group_key, summary, first_seen, last_seen,
                            evidence, acknowledged_by, acknowledged_at, resolved_by, resolved_at)
     SELECT ($1::uuid[])[1 + (i % array_length($1::uuid[], 1))], 'abnormal_port', 'medium',
            CASE WHEN i % 2 = 0 THEN 'resolved' ELSE 'open' END, 'k' || i, 'bench',
            $2::timestamptz + (i % 700) * interval '1 hour',
            $2::timestamptz + (i % 700) * interval '1 hour' + interval '10 minutes', '{}'::jsonb,
            CASE WHEN i % 2 = 0 THEN 'op' END,
            CASE WHEN i % 2 = 0 THEN $2::timestamptz + (i % 700) * interval '1 hour' + interval '5 minutes' END,
            CASE WHEN i % 2 = 0 THEN 'op' END,
            CASE WHEN i % 2 = 0 THEN $2::timestamptz + (i % 700) * interval '1 hour' + interval '40 minutes' END
       FROM generate_series(1, $4::int) i WHERE $3::timestamptz IS NOT NULL`,
    [...args, anomalies],
  );
  counts.anomalies = anomalies;
  await db.query('ANALYZE');
  return counts;
}

/**
 * Recent traffic the short ranges read: 10 s raw windows over the last `rawMinutes` and 1 min
 * rollups over the last `minuteMinutes` before `now` (same shape as the 1 h rows), in
 * partitions made with the server's own DDL (`partitionDdl`).
 */
async function generateRecentTraffic(db, ids, now, { rawMinutes, minuteMinutes, partitionDdl }) {
  const counts = {};
  for (const [table, timeCol, step, minutes, unitMs] of [
    ['traffic_raw', 'window_start', '10 seconds', rawMinutes, 10_000],
    ['traffic_1m', 'bucket', '1 minute', minuteMinutes, 60_000],
  ]) {
    const to = Math.floor(now / unitMs) * unitMs;
    const from = to - minutes * 60_000;
    for (let d = Math.floor(from / DAY) * DAY; d <= to; d += DAY) {
      await db.query(partitionDdl(table, new Date(d), 'day', !table.endsWith('_raw')));
    }
    const r = await db.query(
      `INSERT INTO ${table} (agent_id, ${timeCol}, iface, direction, family, protocol, packets, bytes)
       SELECT a.id, b.t, 'eth0', d, 1, p, (1000 + random() * 1e6)::bigint, (1e5 + random() * 1e9)::bigint
         FROM unnest($1::uuid[]) a(id),
              generate_series($2::timestamptz, $3::timestamptz, $4::interval) b(t),
              generate_series(1, 2) d, generate_series(1, 4) p`,
      [ids, new Date(from), new Date(to - unitMs), step],
    );
    counts[table] = r.rowCount;
  }
  await db.query('ANALYZE');
  return counts;
}

module.exports = { insertHosts, generateHistory, generateRecentTraffic };

// The limit: the same windows the simulated agents send, turned into the same
// rows the server stores (its own validateBatch + rawRowsOf, the raw columns
// exactly as the writer sends them), then loaded with
// PostgreSQL's COPY FROM STDIN (text format, one session, one COPY per raw
// table) into a fresh database migrated with the server's migrations.
// Rollups are not maintained here: COPY cannot upsert, so the ratio compares
// Tidewatch's raw + 1 min + 1 h writes with raw rows alone.
import { readFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { Batch, Batch__Output } from '@tidewatch/proto';
import { loadTidewatchV1 } from '@tidewatch/proto';
import { validateBatch } from '@tidewatch/server/dist/ingest/batch-validation';
import { rawRowsOf, type StoredBatch } from '@tidewatch/server/dist/storage/batch-store';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

export interface CopyTable {
  table: string;
  columns: string[];
  /** COPY text-format lines, each ending in \n. */
  lines: string[];
}

const LIMITS = { maxRecords: 1_000_000, notBefore: new Date(0), notAfter: new Date(8.64e15) };

function copyValue(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'boolean') return v ? 't' : 'f';
  return String(v).replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
  );
}

/** Wire round trip as the server sees it: encoded by the client, decoded by the loader. */
function asServerReceives(batch: Batch): Batch__Output {
  const method = loadTidewatchV1().Ingest.service.Stream;
  const msg = method.requestDeserialize(method.requestSerialize({ batch }));
  if (!msg.batch) throw new Error('batch lost in the wire round trip');
  return msg.batch;
}

/**
 * The server's rows for these batches, per raw table, as COPY text lines. Built
 * in slices with a yield between them: a block of seconds here (tens of
 * thousands of windows) let the server's gRPC keepalive give up on the
 * simulated agents' idle streams, which then failed the paced phase.
 */
export async function copyRowsOf(
  batches: { agentId: string; batch: Batch }[],
): Promise<CopyTable[]> {
  const tables = new Map<string, CopyTable>();
  const SLICE = 250;
  for (let i = 0; i < batches.length; i += SLICE) {
    const items: StoredBatch[] = batches.slice(i, i + SLICE).map(({ agentId, batch }) => ({
      agentId,
      batch: validateBatch(asServerReceives(batch), LIMITS),
    }));
    for (const { table, columns, values } of rawRowsOf(items)) {
      const t = tables.get(table) ?? { table, columns, lines: [] };
      tables.set(table, t);
      for (let r = 0; r < values[0].length; r++) {
        t.lines.push(`${values.map((c) => copyValue(c[r])).join('\t')}\n`);
      }
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  return [...tables.values()];
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat (0 once it ended). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in USER_HZ (100)
  } catch {
    return 0;
  }
}

/**
 * COPY every table's lines in one session; returns the elapsed milliseconds and
 * the CPU seconds its PostgreSQL backend spent (PostgreSQL on this machine).
 */
export async function copyLoad(
  databaseUrl: string,
  tables: CopyTable[],
): Promise<{ ms: number; cpuSeconds: number }> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const [{ pid }] = (await db.query('SELECT pg_backend_pid() AS pid')).rows as { pid: number }[];
    const cpu0 = cpuSeconds(pid);
    const t0 = performance.now();
    for (const t of tables) {
      const sink = db.query(
        copyFrom(`COPY ${t.table} (${t.columns.join(', ')}) FROM STDIN`) as never,
      ) as unknown as NodeJS.WritableStream;
      // 1 MB chunks or so, as a loader streaming a file would send them.
      const chunks = function* () {
        let buf: string[] = [];
        let size = 0;
        for (const l of t.lines) {
          buf.push(l);
          size += l.length;
          if (size >= 1 << 20) {
            yield buf.join('');
            buf = [];
            size = 0;
          }
        }
        if (buf.length) yield buf.join('');
      };
      await pipeline(Readable.from(chunks()), sink);
    }
    return { ms: performance.now() - t0, cpuSeconds: cpuSeconds(pid) - cpu0 };
  } finally {
    await db.end();
  }
}

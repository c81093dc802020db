import { randomUUID } from 'node:crypto';
import {
  SilentAgentsService,
  SILENT_REFRESH_SECONDS,
} from '../src/anomalies/silent-agents.service';
import type { RunningServer } from '../src/server';
import { createTestDatabase, TestDatabase } from './support/database';
import { startTestServer } from './support/server';

// The silent-agent check against the real server's service and real PostgreSQL. Ground truth for
// what it writes: a trigger on anomalies that records every INSERT and UPDATE (one rolled back is
// not recorded), and refuses the writes of the hosts in test_refused. The check is called
// directly with its 5 s timer stopped, so each call is one check and nothing else writes.

let db: TestDatabase;
let server: RunningServer;
let silent: SilentAgentsService;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
  silent = server.app.get(SilentAgentsService);
  await silent.onModuleDestroy();
  await db.query(`CREATE TABLE test_anomaly_writes (op text NOT NULL, agent_id uuid NOT NULL)`);
  await db.query(`CREATE TABLE test_refused (agent_id uuid PRIMARY KEY)`);
  await db.query(`CREATE FUNCTION test_anomaly_write() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM test_refused WHERE agent_id = NEW.agent_id) THEN
        RAISE EXCEPTION 'test refuses writes for %', NEW.agent_id;
      END IF;
      INSERT INTO test_anomaly_writes VALUES (TG_OP, NEW.agent_id);
      RETURN NEW;
    END $$`);
  await db.query(`CREATE TRIGGER test_anomaly_write BEFORE INSERT OR UPDATE ON anomalies
                  FOR EACH ROW EXECUTE FUNCTION test_anomaly_write()`);
});

// Every host of a test speaks at its end, so none is silent (or due a refresh) in the next.
afterEach(async () => {
  await db.query(`UPDATE hosts SET last_seen_at = now()`);
  await writes();
});

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

/** A host last heard `secondsAgo` seconds ago (the fleet default threshold is 90 s). */
async function host(secondsAgo: number): Promise<string> {
  const id = randomUUID();
  await db.query(
    `INSERT INTO hosts (agent_id, hostname, last_seen_at, highest_sequence)
     VALUES ($1, $2, now() - make_interval(secs => $3), 7)`,
    [id, `h-${id.slice(0, 8)}`, secondsAgo],
  );
  return id;
}

/** The check's writes since the last call, as "INSERT"/"UPDATE" per agent. */
async function writes(): Promise<Map<string, string[]>> {
  const rows = await db.query<{ op: string; agent_id: string }>(
    `DELETE FROM test_anomaly_writes RETURNING op, agent_id`,
  );
  const out = new Map<string, string[]>();
  for (const r of rows) out.set(r.agent_id, [...(out.get(r.agent_id) ?? []), r.op]);
  return out;
}

interface Incident {
  agent_id: string;
  status: string;
  windows: number;
  last_seen: Date;
  summary: string;
}

async function incidents(ids: string[]): Promise<Incident[]> {
  return db.query<Incident>(
    `SELECT agent_id::text, status, windows, last_seen, summary FROM anomalies
      WHERE type = 'agent_silent' AND agent_id = ANY($1::uuid[]) ORDER BY agent_id, id`,
    [ids],
  );
}

/** As if the incident had last been written SILENT_REFRESH_SECONDS + 1 ago. */
async function age(ids: string[]): Promise<void> {
  await db.query(
    `UPDATE anomalies SET last_seen = now() - make_interval(secs => $2)
      WHERE type = 'agent_silent' AND agent_id = ANY($1::uuid[])`,
    [ids, SILENT_REFRESH_SECONDS + 1],
  );
  await writes();
}

it('raises a new silent host at once, writes nothing within the refresh interval, refreshes after it, and leaves a host that spoke again alone', async () => {
  const [a, b, c] = [await host(600), await host(600), await host(600)];
  const talking = await host(5);
  const all = [a, b, c, talking];

  await silent.check();
  expect(await writes()).toEqual(
    new Map([
      [a, ['INSERT']],
      [b, ['INSERT']],
      [c, ['INSERT']],
    ]),
  );
  const raised = await incidents(all);
  expect(raised.map((i) => [i.agent_id, i.status, i.windows])).toEqual(
    [a, b, c].sort().map((id) => [id, 'open', 1]),
  );

  // Within the interval: not one write, and the incidents exactly as they were.
  await silent.check();
  await silent.check();
  expect(await writes()).toEqual(new Map());
  expect(await incidents(all)).toEqual(raised);

  // b speaks again; a's and b's incidents are then due a refresh.
  await db.query(`UPDATE hosts SET last_seen_at = now() WHERE agent_id = $1`, [b]);
  await age([a, b]);
  const before = new Date();
  await silent.check();
  expect(await writes()).toEqual(new Map([[a, ['UPDATE']]]));
  const after = await incidents(all);
  const [ia] = after.filter((i) => i.agent_id === a);
  expect(ia.windows).toBe(2);
  expect(ia.last_seen.getTime()).toBeGreaterThanOrEqual(before.getTime() - 1000);
  expect(ia.summary).toMatch(/^nothing heard from the agent for \d+ s$/);
  // b's incident is left as it was (open, not extended, no second one); c not yet due.
  expect(after.filter((i) => i.agent_id === b).map((i) => i.windows)).toEqual([1]);
  expect(after.filter((i) => i.agent_id === c)).toEqual(raised.filter((i) => i.agent_id === c));

  await silent.check();
  expect(await writes()).toEqual(new Map());
});

it('reopens an incident whose suppression expired at the next check, not a refresh later', async () => {
  const h = await host(600);
  await silent.check();
  await db.query(
    `UPDATE anomalies SET status = 'suppressed', suppressed_until = now() - interval '1 s'
      WHERE type = 'agent_silent' AND agent_id = $1`,
    [h],
  );
  await writes();
  await silent.check();
  expect(await writes()).toEqual(new Map([[h, ['UPDATE']]]));
  expect((await incidents([h])).map((i) => [i.status, i.windows])).toEqual([['open', 2]]);
});

it('one host whose write fails does not stop the others in the same check', async () => {
  const refused = await host(600);
  const others = [await host(600), await host(600), await host(600)];
  await db.query(`INSERT INTO test_refused VALUES ($1)`, [refused]);
  await silent.check();
  expect(await writes()).toEqual(new Map(others.map((id) => [id, ['INSERT']])));
  expect((await incidents([refused, ...others])).map((i) => i.agent_id)).toEqual(
    [...others].sort(),
  );
  // Once it can be written, it is raised at the next check.
  await db.query(`DELETE FROM test_refused`);
  await silent.check();
  expect(await writes()).toEqual(new Map([[refused, ['INSERT']]]));
});

it('two checks at once (two replicas) refresh each due incident once', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) ids.push(await host(600));
  await Promise.all([silent.check(), silent.check()]);
  expect(await writes()).toEqual(new Map(ids.map((id) => [id, ['INSERT']])));
  await age(ids);
  await Promise.all([silent.check(), silent.check()]);
  expect(await writes()).toEqual(new Map(ids.map((id) => [id, ['UPDATE']])));
  expect((await incidents(ids)).map((i) => i.windows)).toEqual(ids.map(() => 1 + 1));
});

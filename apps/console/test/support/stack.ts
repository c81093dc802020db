import { Browser } from 'playwright-core';
import { launchChromium } from './browser';
import {
  assertBuilt,
  auditEnv,
  createTestDatabase,
  startConsole,
  startServer,
  stop,
  TestDatabase,
} from './processes';

type ServerChild = Awaited<ReturnType<typeof startServer>>;
type ConsoleChild = Awaited<ReturnType<typeof startConsole>>;

interface Parts {
  db?: TestDatabase;
  audit?: ReturnType<typeof auditEnv>;
  server?: ServerChild;
  consoleApp?: ConsoleChild;
  browser?: Browser;
}

/**
 * What every browser spec stands on: its own migrated database, the built server on it (with an
 * audit signing key, as the server requires), the built console in front of that server, and
 * Debian's chromium. `stop()` ends whatever `start()` got to, in the reverse order, so a start
 * that fails half-way leaves nothing behind either.
 */
export class ConsoleStack {
  private parts: Parts = {};

  get db(): TestDatabase {
    return this.part('db');
  }
  get server(): ServerChild {
    return this.part('server');
  }
  get consoleApp(): ConsoleChild {
    return this.part('consoleApp');
  }
  get browser(): Browser {
    return this.part('browser');
  }

  /** `serverEnv` is added to the server's environment (after the audit settings). */
  async start(timeZone: string, serverEnv: Record<string, string> = {}): Promise<void> {
    assertBuilt();
    const p = this.parts;
    p.db = await createTestDatabase();
    p.audit = auditEnv();
    p.server = await startServer(p.db.url, { ...p.audit.env, ...serverEnv });
    const api = `http://127.0.0.1:${p.server.httpPort}`;
    const [consoleApp, browser] = await Promise.allSettled([
      startConsole(api, timeZone),
      launchChromium(),
    ]);
    if (consoleApp.status === 'fulfilled') p.consoleApp = consoleApp.value;
    if (browser.status === 'fulfilled') p.browser = browser.value;
    for (const r of [consoleApp, browser]) if (r.status === 'rejected') throw r.reason;
  }

  async stop(): Promise<void> {
    const p = this.parts;
    this.parts = {};
    await p.browser?.close();
    await stop(p.consoleApp);
    await stop(p.server);
    await p.db?.drop();
    p.audit?.cleanup();
  }

  private part<K extends keyof Parts>(name: K): NonNullable<Parts[K]> {
    const v = this.parts[name];
    if (v === undefined) throw new Error(`the console stack has no ${name}: start() first`);
    return v as NonNullable<Parts[K]>;
  }
}

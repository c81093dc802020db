#!/usr/bin/env node
/*
 * `npm start`: try Tidewatch on one machine, as root (the agent loads eBPF programs).
 *
 *   1. DATABASE_URL (default postgres://postgres@127.0.0.1:5432/tidewatch): the database is
 *      created when missing, then migrated (`tidewatch-server migrate run`).
 *   2. The server on HTTP 8080 (REST /api/v1, OpenAPI /api/docs, /metrics) and gRPC 50051.
 *   3. A local agent (`tidewatch-agent run --server 127.0.0.1:50051`) on every up, non-loopback
 *      interface (and those that come up later), metrics on 127.0.0.1:9464, its state (credential,
 *      spool, sequence numbers) in $XDG_STATE_HOME/tidewatch (~/.local/state/tidewatch); on first
 *      contact it enrolls with a one-use token made here.
 *   4. Ctrl-C stops the agent first (it flushes its last window, waits for the ack and detaches
 *      its programs), then the server.
 *
 * `npm start -- --demo` also makes a demo fleet (tools/demo/fleet.js): three network namespaces
 * with their own hostnames, agents and generated traffic (TCP, UDP, ICMP, IPv4 and IPv6, a port
 * scan now and then, tools/demo/traffic.js), so that a quiet machine shows a live fleet with
 * anomalies within a minute. Ctrl-C stops them too and deletes the namespaces.
 *
 * Both listen on 127.0.0.1 unless HTTP_HOST / GRPC_HOST say otherwise. Every REST route but
 * health and metrics needs a signed-in user: on a database without users, the first
 * administrator (secadmin, who then creates the others) is made here with
 * `tidewatch-server users create` — its password from TIDEWATCH_ADMIN_PASSWORD_FILE, else
 * generated and printed once (changed at first sign-in); never a fixed default. The key that
 * seals TOTP secrets (AUTH_TOTP_KEY_FILE) is made once in the state directory.
 * Logs go to files in the state directory (paths printed at start).
 * The console (apps/console, Next.js) on CONSOLE_HOST:CONSOLE_PORT (127.0.0.1:3000), its /api
 * proxied to the server (TIDEWATCH_API_URL), so the browser only ever talks to the console.
 * Plain CommonJS on purpose: it runs the built binaries, nothing of its own needs building.
 */
'use strict';

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const SERVER_BIN = path.join(ROOT, 'apps', 'server', 'bin', 'tidewatch-server.js');
const AGENT_BIN = path.join(ROOT, 'apps', 'agent', 'bin', 'tidewatch-agent.js');

const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/tidewatch';
const HTTP_HOST = process.env.HTTP_HOST || '127.0.0.1';
const HTTP_PORT = Number(process.env.HTTP_PORT || 8080);
const GRPC_HOST = process.env.GRPC_HOST || '127.0.0.1';
const GRPC_PORT = Number(process.env.GRPC_PORT || 50051);
const METRICS = { host: '127.0.0.1', port: Number(process.env.AGENT_METRICS_PORT || 9464) };
const DEMO = process.argv.slice(2).includes('--demo');
const STATE_DIR = path.join(
  process.env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state'),
  'tidewatch',
);
const AGENT_STATE = path.join(STATE_DIR, 'agent');
const SERVER_STATE = path.join(STATE_DIR, 'server');
const ADMIN_USERNAME = process.env.TIDEWATCH_ADMIN_USERNAME || 'secadmin';
const LOG_DIR = path.join(STATE_DIR, 'logs');
// The audit trail's checkpoint signing key (Ed25519) and its checkpoint file, outside the database.
const AUDIT_KEY =
  process.env.AUDIT_SIGNING_KEY_FILE || path.join(STATE_DIR, 'audit', 'audit-signing-key.pem');
// Host-side ends of the test suite's veth pairs (@tidewatch/testhosts names them tw<tag><n>a):
// a second agent on them would replace the test's own programs.
const EXCLUDE = 'tw*';

function fail(message) {
  console.error(`npm start: ${message}`);
  process.exit(1);
}

/** `pg` as the server resolves it (it is the server's dependency, not the root's). */
function pg() {
  return require(require.resolve('pg', { paths: [path.join(ROOT, 'apps', 'server')] }));
}

function preflight() {
  if (process.getuid && process.getuid() !== 0) {
    fail('the local agent loads eBPF programs and needs root: run `sudo npm start`.');
  }
  const built = [
    'apps/server/dist/main.js',
    'apps/agent/dist/main.js',
    'libs/bpf/native/build/Release/tidewatch.node',
    'apps/console/.next/BUILD_ID',
  ].filter((f) => !fs.existsSync(path.join(ROOT, f)));
  if (built.length > 0) fail(`not built (${built.join(', ')}): run \`npm run setup\` first.`);
}

/** Resolves when host:port can be listened on; rejects with what to do otherwise. */
function portFree(host, port, what) {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', (err) =>
      reject(new Error(`${what} port ${host}:${port} is not available (${err.code})`)),
    );
    s.listen(port, host, () => s.close(() => resolve()));
  });
}

/** Creates the database of DATABASE_URL when it does not exist yet. Returns true if created. */
async function ensureDatabase() {
  const { Client } = pg();
  const target = new URL(DATABASE_URL);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) fail(`DATABASE_URL names no database: ${DATABASE_URL}`);
  const admin = new URL(DATABASE_URL);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (err) {
    fail(
      `PostgreSQL is not reachable at ${admin.host} (${err.message}).\n` +
        '  Start it (e.g. `systemctl start postgresql`) or set DATABASE_URL.',
    );
  }
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount > 0) return false;
    await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    return true;
  } finally {
    await client.end();
  }
}

/**
 * The key that signs the audit trail's checkpoints: made on first start (`audit keygen`). A
 * database created just now starts a new trail, so the checkpoints of the old one are set aside
 * (verify would otherwise rightly say "head behind the last checkpoint").
 */
function ensureAuditKey(databaseCreated) {
  const dir = path.dirname(AUDIT_KEY);
  const checkpoints =
    process.env.AUDIT_CHECKPOINT_FILE || path.join(dir, 'audit-checkpoints.jsonl');
  if (databaseCreated && fs.existsSync(checkpoints)) {
    fs.renameSync(checkpoints, `${checkpoints}.${new Date().toISOString().replace(/[:.]/g, '-')}`);
  }
  if (fs.existsSync(AUDIT_KEY)) return;
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  serverCli(['audit', 'keygen', '--out', AUDIT_KEY]);
  console.log(`audit key  ${AUDIT_KEY} (created; signed checkpoints go to ${checkpoints})`);
}

/** Runs a server CLI command; its stdout, or exits with its output. */
function serverCli(args) {
  const r = spawnSync(process.execPath, [SERVER_BIN, ...args], {
    env: { ...process.env, DATABASE_URL, LOG_LEVEL: 'warn', AUTH_TOTP_KEY_FILE: totpKeyFile() },
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    fail(`tidewatch-server ${args.join(' ')} failed:\n${(r.stdout || '') + (r.stderr || '')}`);
  }
  return r.stdout.trim();
}

/** The key that seals TOTP secrets at rest, made once (0600) unless AUTH_TOTP_KEY_FILE names one. */
function totpKeyFile() {
  if (process.env.AUTH_TOTP_KEY_FILE) return process.env.AUTH_TOTP_KEY_FILE;
  const file = path.join(SERVER_STATE, 'totp.key');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(SERVER_STATE, { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, require('node:crypto').randomBytes(32).toString('hex'), { mode: 0o600 });
  }
  return file;
}

/**
 * On a database without users: the first administrator. Returns how to sign in (the
 * generated password is in it, shown this once), or null when users exist already.
 */
function firstAdministrator() {
  if (serverCli(['users', 'list']) !== '') return null;
  const args = ['users', 'create', '--username', ADMIN_USERNAME, '--role', 'secadmin'];
  const file = process.env.TIDEWATCH_ADMIN_PASSWORD_FILE;
  if (file) {
    serverCli([...args, '--password-file', file]);
    return { username: ADMIN_USERNAME, password: null, file };
  }
  return { username: ADMIN_USERNAME, password: serverCli(args), file: null };
}

/** The local agent's id, from the hosts table (the REST API needs a signed-in user). */
async function localAgentId() {
  const client = new (pg().Client)({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    const r = await client.query(
      'SELECT agent_id FROM hosts WHERE hostname = $1 ORDER BY last_seen_at DESC NULLS LAST LIMIT 1',
      [os.hostname()],
    );
    return r.rows.length ? r.rows[0].agent_id : '<agent-id>';
  } finally {
    await client.end();
  }
}

/**
 * A child in its own process group (Ctrl-C reaches only us; we stop them in order). `wrap`: an
 * argv prefix that ends in exec (`ip netns exec NS …`), so the pid stays the node process's.
 */
function startChild(name, bin, args, env, wrap = [], nodeArgs = []) {
  const log = path.join(LOG_DIR, `${name}.log`);
  const out = fs.openSync(log, 'a');
  const argv = [...wrap, process.execPath, ...nodeArgs, bin, ...args];
  // npm start's own settings stay here: the agent refuses TIDEWATCH_* variables it does not know.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('TIDEWATCH_ADMIN_')),
  );
  const child = spawn(argv[0], argv.slice(1), {
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', out],
    detached: true,
  });
  child.log = log;
  child.text = '';
  child.stdout.on('data', (d) => {
    fs.writeSync(out, d);
    if (child.text.length < 1e6) child.text += d.toString();
  });
  child.exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal)),
  );
  return child;
}

/**
 * The agent's launch settings (node flags and environment that a running node cannot take on;
 * apps/agent/src/health/launch-flags.ts), as the systemd unit gives them. Read once built.
 */
function agentLaunch() {
  const { LAUNCH_NODE_FLAGS, LAUNCH_ENV } = require(
    path.join(ROOT, 'apps', 'agent', 'dist', 'health', 'launch-flags.js'),
  );
  return { nodeArgs: LAUNCH_NODE_FLAGS, env: LAUNCH_ENV };
}

function tail(file, lines = 20) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

async function waitUntil(check, timeoutMs, what, child) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (child && child.exitCode !== null) {
      throw new Error(
        `${what}: the process exited (${child.exitCode}). Its log:\n${tail(child.log)}`,
      );
    }
    if (Date.now() > deadline) throw new Error(`${what}: timed out. See ${child ? child.log : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Up, non-loopback interfaces, as the agent chooses them (minus the test suite's veths). */
function watchedInterfaces() {
  return fs
    .readdirSync('/sys/class/net')
    .filter((n) => {
      try {
        const flags = Number(fs.readFileSync(`/sys/class/net/${n}/flags`, 'utf8'));
        return (flags & 0x1) !== 0 && (flags & 0x8) === 0 && !/^tw/.test(n); // IFF_UP, !IFF_LOOPBACK
      } catch {
        return false;
      }
    })
    .sort();
}

// ---------------------------------------------------------------------------------------------
// CONSOLE: apps/console (Next.js, its server.mjs), /api and the live feed proxied to `api`.
// Pushed last onto `children`, so Ctrl-C stops it first.
// ---------------------------------------------------------------------------------------------
const CONSOLE_DIR = path.join(ROOT, 'apps', 'console');
const CONSOLE_HOST = process.env.CONSOLE_HOST || '127.0.0.1';
const CONSOLE_PORT = Number(process.env.CONSOLE_PORT || 3000);

function startConsole(api) {
  // server.mjs: `next start` plus the live feed's WebSocket forwarding (apps/console/server.mjs).
  return startChild(
    'console',
    path.join(CONSOLE_DIR, 'server.mjs'),
    ['-p', String(CONSOLE_PORT), '-H', CONSOLE_HOST],
    { TIDEWATCH_API_URL: api, NEXT_TELEMETRY_DISABLED: '1' },
  );
}

async function main() {
  preflight();
  fs.mkdirSync(AGENT_STATE, { recursive: true, mode: 0o700 });
  fs.mkdirSync(LOG_DIR, { recursive: true });
  try {
    await portFree(HTTP_HOST, HTTP_PORT, 'HTTP');
    await portFree(GRPC_HOST, GRPC_PORT, 'gRPC');
    await portFree(METRICS.host, METRICS.port, 'agent metrics');
    await portFree(CONSOLE_HOST, CONSOLE_PORT, 'console');
  } catch (err) {
    fail(`${err.message}: is Tidewatch already running? Set HTTP_PORT / GRPC_PORT otherwise.`);
  }

  const created = await ensureDatabase();
  const credential = path.join(AGENT_STATE, 'credential');
  if (created) {
    // A credential and sequence numbers left in the state directory belonged to a database
    // that is gone. (The reverse, a fresh state directory for an agent the database knows,
    // loses windows: keep the state directory as long as the database.)
    fs.rmSync(AGENT_STATE, { recursive: true, force: true });
    fs.mkdirSync(AGENT_STATE, { recursive: true, mode: 0o700 });
  }
  console.log(`database   ${DATABASE_URL}${created ? ' (created)' : ''}`);
  serverCli(['migrate', 'run']);
  console.log('migrations applied');
  ensureAuditKey(created);
  const admin = firstAdministrator();
  if (admin) console.log(`first administrator "${admin.username}" (secadmin) created`);

  const server = startChild('server', SERVER_BIN, ['serve', '--no-migrate'], {
    DATABASE_URL,
    AUDIT_SIGNING_KEY_FILE: AUDIT_KEY,
    HTTP_HOST,
    HTTP_PORT: String(HTTP_PORT),
    GRPC_HOST,
    GRPC_PORT: String(GRPC_PORT),
    AUTH_TOTP_KEY_FILE: totpKeyFile(),
  });
  const children = [server];
  let demo = null;
  let stopping = false;
  const stop = async (code) => {
    if (stopping) return;
    stopping = true;
    // Reverse order: the agent's last window still reaches a running server.
    for (const child of children.slice().reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const how = await child.exited;
      clearTimeout(timer);
      console.log(`${path.basename(child.log, '.log')} stopped (${how})`);
    }
    if (demo) {
      await demoFleet().teardown(demo);
      console.log('demo fleet removed (namespaces, links, relays)');
    }
    process.exit(code);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      console.log('\nstopping…');
      stop(0);
    });
  }
  process.on('exit', () => {
    children.forEach((c) => c.exitCode === null && c.kill('SIGTERM'));
    if (demo) demoFleet().teardownSync();
  });

  try {
    await waitUntil(
      async () => server.text.includes('"event":"listening"'),
      60_000,
      'server start',
      server,
    );
    let token = '';
    if (!fs.existsSync(credential)) {
      token = serverCli([
        'enroll',
        'create',
        '--name',
        `npm-start-${os.hostname()}-${Date.now()}`,
        '--expires',
        '1h',
        '--uses',
        '1',
      ]);
    }
    const agentArgs = [
      'run',
      '--server',
      `127.0.0.1:${GRPC_PORT}`,
      '--metrics-listen',
      `${METRICS.host}:${METRICS.port}`,
      '--state-dir',
      AGENT_STATE,
      '--exclude-interfaces',
      EXCLUDE,
    ];
    if (token) {
      // By file, never on argv: /proc/PID/cmdline is readable by every local user.
      const tokenFile = path.join(AGENT_STATE, 'enrollment-token');
      fs.writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
      agentArgs.push('--enrollment-token-file', tokenFile);
    }
    const launch = agentLaunch();
    const agent = startChild('agent', AGENT_BIN, agentArgs, launch.env, [], launch.nodeArgs);
    children.push(agent);
    const metricsUrl = `http://${METRICS.host}:${METRICS.port}/metrics`;
    await waitUntil(
      async () =>
        /^tidewatch_agent_server_connected 1$/m.test(await (await fetch(metricsUrl)).text()),
      30_000,
      'agent connected to the server',
      agent,
    );
    if (DEMO) {
      demo = await demoFleet().create({ grpcPort: GRPC_PORT, grpcHost: GRPC_HOST });
      await startDemo(demo, created, children);
    }
    const api = `http://${HTTP_HOST === '0.0.0.0' ? '127.0.0.1' : HTTP_HOST}:${HTTP_PORT}`;
    const consoleChild = startConsole(api);
    children.push(consoleChild);
    const consoleUrl = `http://${CONSOLE_HOST === '0.0.0.0' ? '127.0.0.1' : CONSOLE_HOST}:${CONSOLE_PORT}`;
    await waitUntil(
      async () => (await fetch(`${consoleUrl}/zh-CN/sign-in`)).ok,
      60_000,
      'console start',
      consoleChild,
    );
    console.log(`console    ${consoleUrl}/zh-CN/fleet (English: ${consoleUrl}/en/fleet)`);
    const agentId = await localAgentId();
    for (const c of children) {
      c.on('exit', (code) => {
        if (stopping) return;
        console.error(
          `\n${path.basename(c.log, '.log')} exited (${code}). Its log:\n${tail(c.log)}`,
        );
        stop(1);
      });
    }
    console.log(`
Tidewatch is running.
  REST API      ${api}/api/v1   (e.g. ${api}/api/v1/hosts)
  OpenAPI       ${api}/api/docs
  server        ${api}/metrics, gRPC ingest ${GRPC_HOST}:${GRPC_PORT}
  agent         ${agentId}, metrics ${metricsUrl}
                watching ${watchedInterfaces().join(', ') || '(none up yet)'} and interfaces that come up later
  console       ${consoleUrl}/zh-CN/fleet   (English: ${consoleUrl}/en/fleet)
  logs          ${server.log}, ${agent.log}, ${consoleChild.log}
  agent state   ${AGENT_STATE}
${demo ? demoText(demo) : ''}
${signInText(admin, api)}
Traffic of the last hour, once the first 10 s window is in (as an operator or viewer the
security administrator created):
  curl -H "Authorization: Bearer $TOKEN" '${api}/api/v1/traffic/summary?agentId=${agentId}'

Ctrl-C stops the console, the agent (flushes its last window, detaches its eBPF programs), then the server.`);
  } catch (err) {
    console.error(`npm start: ${err.message}`);
    if (/agent connected/.test(err.message)) {
      console.error(
        `  An agent credential from another database is refused: remove ${AGENT_STATE} to enroll again.\n` +
          `  A database that knows this agent refuses a new enrollment under its id until an administrator\n` +
          `  runs \`npx tidewatch-server agents reset <agent-id>\` with the same DATABASE_URL (the id is in\n` +
          `  ${path.join(LOG_DIR, 'agent.log')}).`,
      );
    }
    await stop(1);
  }
}

// ---------------------------------------------------------------------------------------------
// DEMO (--demo): the fleet of tools/demo/fleet.js, each host with its agent and its traffic.
// ---------------------------------------------------------------------------------------------
function demoFleet() {
  return require('./demo/fleet');
}

/** Whether the server has stored the agent's enrolment (its hosts row exists). */
async function known(agentId) {
  const client = new (pg().Client)({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    return (await client.query('SELECT 1 FROM hosts WHERE agent_id = $1', [agentId])).rowCount > 0;
  } finally {
    await client.end();
  }
}

/**
 * Per demo host: its agent (enrolled on first contact, token by file), then its traffic. One
 * host after the other: on a loaded machine several enrolments at once can outlast the agent's
 * wait for its Welcome.
 */
async function startDemo(fleet, databaseCreated, started) {
  const mod = demoFleet();
  for (const host of fleet.hosts) {
    const state = path.join(STATE_DIR, 'demo', host.name);
    if (databaseCreated) fs.rmSync(state, { recursive: true, force: true });
    fs.mkdirSync(state, { recursive: true, mode: 0o700 });
    const config = path.join(state, 'agent.json');
    fs.writeFileSync(config, JSON.stringify(mod.agentConfig(host), null, 2));
    const args = [
      'run',
      '--config',
      config,
      '--interfaces',
      host.interfaces.join(','),
      '--state-dir',
      state,
    ];
    if (!fs.existsSync(path.join(state, 'credential'))) {
      const token = serverCli([
        'enroll',
        'create',
        '--name',
        `npm-start-${host.hostname}-${Date.now()}`,
        '--expires',
        '1h',
        '--uses',
        '1',
      ]);
      const tokenFile = path.join(state, 'enrollment-token');
      fs.writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
      args.push('--enrollment-token-file', tokenFile);
    }
    // Its own id: the default (from /etc/machine-id) is the same in every namespace.
    const idFile = path.join(state, 'agent-id');
    if (!fs.existsSync(idFile))
      fs.writeFileSync(idFile, `${require('node:crypto').randomUUID()}\n`);
    const id = { TIDEWATCH_AGENT_ID: fs.readFileSync(idFile, 'utf8').trim() };
    const launch = agentLaunch();
    const agent = startChild(
      `${host.hostname}-agent`,
      AGENT_BIN,
      args,
      { ...launch.env, ...id },
      mod.wrap(host),
      launch.nodeArgs,
    );
    started.push(agent);
    await waitUntil(
      () => known(id.TIDEWATCH_AGENT_ID),
      60_000,
      `${host.hostname} agent enrolled`,
      agent,
    );
    started.push(
      startChild(
        `${host.hostname}-traffic`,
        mod.TRAFFIC,
        [mod.trafficPlan(fleet, host)],
        {},
        mod.wrap(host),
      ),
    );
  }
}

function demoText(fleet) {
  const rows = fleet.hosts.map(
    (h) =>
      `                ${h.hostname.padEnd(9)} namespace ${h.ns}, watching ${h.interfaces.join(', ')}`,
  );
  return `  demo fleet    three hosts with generated traffic (TCP, UDP, ICMP, IPv6; \`app\` scans a peer now and then):
${rows.join('\n')}
                their logs: ${path.join(LOG_DIR, 'demo-*.log')}
`;
}

/** How the first administrator signs in (README: "Users, roles and sign-in"). */
function signInText(admin, api) {
  const login = (password) =>
    `curl -si -H 'content-type: application/json' -d '{"username":"${admin ? admin.username : ADMIN_USERNAME}","password":"${password}","totp":"<code>"}' ${api}/api/v1/auth/login`;
  if (!admin) {
    return `Sign in as an existing user (users: \`npx tidewatch-server users list\`; a forgotten password:
\`npx tidewatch-server users reset <username>\`, both with the same DATABASE_URL):
  ${login('<password>')}`;
  }
  return `First administrator (security administrator: creates the other users and their roles):
  username      ${admin.username}
  password      ${admin.password ? `${admin.password}   (generated, shown only now: it must be changed at first sign-in)` : `from ${admin.file}`}
  sign in       POST ${api}/api/v1/auth/login, then change the password (POST /api/v1/auth/password),
                sign in again and enrol TOTP (POST /api/v1/auth/totp/enroll, then /auth/totp/confirm),
                as the README's "Users, roles and sign-in" shows step by step.`;
}

main().catch((err) => fail(err.stack || String(err)));

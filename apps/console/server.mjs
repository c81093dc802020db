// The console's HTTP server: Next.js (production build) plus one thing `next start` cannot do,
// forwarding the live feed's WebSocket upgrade (/api/v1/live) to the Tidewatch server. A route
// handler answers plain requests only (it never sees an upgrade), so the browser's WebSocket
// would otherwise have to go to the server's own origin: another port (the cookie is sent, but
// the server may not be reachable from the browser at all), and a second origin to expose.
// Here the upgrade is passed through byte for byte (the server's `ws` does the handshake with the
// browser itself), so the browser talks only to the console's origin, as with /api.
//
//   node server.mjs [-p PORT] [-H HOST]      (PORT / HOSTNAME from the environment otherwise)
import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import next from 'next';

const dir = path.dirname(fileURLToPath(import.meta.url));
const LIVE_PATH = '/api/v1/live';
// Hop-by-hop headers of the browser's request that the server gets afresh.
const DROP = new Set(['host']);

function arg(flags, fallback) {
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) if (flags.includes(argv[i])) return argv[i + 1];
  return fallback;
}

const port = Number(arg(['-p', '--port'], process.env.PORT || 3000));
const host = arg(['-H', '--hostname'], process.env.HOSTNAME || '0.0.0.0');
const api = new URL(
  (process.env.TIDEWATCH_API_URL?.trim() || 'http://127.0.0.1:8080').replace(/\/+$/, ''),
);

/** The browser's upgrade request, replayed to the server, then both sockets joined. */
function forwardUpgrade(req, socket, head) {
  const secure = api.protocol === 'https:';
  const upstreamPort = Number(api.port || (secure ? 443 : 80));
  const upstream = secure
    ? tls.connect({ host: api.hostname, port: upstreamPort, servername: api.hostname })
    : net.connect({ host: api.hostname, port: upstreamPort });
  const fail = () => {
    if (socket.writable) socket.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n');
    socket.destroy();
    upstream.destroy();
  };
  upstream.once(secure ? 'secureConnect' : 'connect', () => {
    upstream.off('error', fail);
    let text = `${req.method} ${req.url} HTTP/1.1\r\nHost: ${api.host}\r\n`;
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (!DROP.has(req.rawHeaders[i].toLowerCase())) {
        text += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
      }
    }
    upstream.write(`${text}\r\n`);
    if (head?.length) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
    const close = () => {
      socket.destroy();
      upstream.destroy();
    };
    upstream.on('error', close);
    upstream.on('close', close);
    socket.on('error', close);
    socket.on('close', close);
  });
  upstream.once('error', fail);
  socket.once('error', () => upstream.destroy());
}

// Next attaches its own 'upgrade' listener to the server of the first request it handles
// (NextCustomServer.setupWebSocketHandler) and ends every upgrade it has no route for, the live
// feed's included: a browser's WebSocket, opened after the page loaded, was closed before its
// handshake answer arrived (a client that connects before any page request never saw it). So
// Next gets an emitter of its own as its `httpServer`, and only the upgrades that are not ours.
const nextUpgrades = new EventEmitter();
const app = next({ dev: false, dir, hostname: host, port, httpServer: nextUpgrades });
const handle = app.getRequestHandler();
await app.prepare();

const server = createServer((req, res) => handle(req, res));
server.on('upgrade', (req, socket, head) => {
  const pathname = (req.url ?? '').split('?')[0];
  if (pathname === LIVE_PATH) forwardUpgrade(req, socket, head);
  else nextUpgrades.emit('upgrade', req, socket, head);
});
server.listen(port, host, () => {
  process.stdout.write(
    `✓ Ready on http://${host}:${port} (live feed forwarded to ${api.origin})\n`,
  );
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    server.close();
    process.exit(0);
  });
}

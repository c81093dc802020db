import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

/** Thrown when the metrics address cannot be served. */
export class ListenError extends Error {
  override readonly name = 'ListenError';
}

export function splitHostPort(hostPort: string): { host: string; port: number } {
  const i = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(hostPort.slice(i + 1)) };
}

/** Serves GET /metrics (Prometheus text) and GET /healthz. */
export async function serveMetrics(registry: Registry, hostPort: string): Promise<Server> {
  const { host, port } = splitHostPort(hostPort);
  const server = createServer((req, res) => {
    if (req.method !== 'GET') {
      res.writeHead(405).end();
    } else if (req.url === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(text),
        (err: Error) => res.writeHead(500).end(err.message),
      );
    } else if (req.url === '/healthz') {
      res.writeHead(200).end('ok\n');
    } else {
      res.writeHead(404).end('see /metrics\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new ListenError(`cannot serve metrics on ${hostPort}: ${err.code ?? err.message}`)),
    );
    server.listen(port, host, () => resolve());
  });
  return server;
}

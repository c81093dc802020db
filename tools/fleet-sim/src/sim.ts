// Fleet simulator: N agents streaming realistic windows in real time.
//   node tools/fleet-sim/dist/sim.js --server 127.0.0.1:50051 --token twe_… --agents 100 [--window-seconds 10]
import { randomUUID } from 'node:crypto';
import { SimAgent } from './sim-agent';
import { makeWindow } from './windows';

function arg(name: string, def?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : def;
  if (v === undefined) {
    process.stderr.write(`fleet-sim: --${name} is required\n`);
    process.exit(2);
  }
  return v;
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    process.stdout.write(
      'usage: fleet-sim --server HOST:PORT --token ENROLLMENT_TOKEN [--agents 100] [--window-seconds 10] [--duration-seconds 0 (forever)]\n',
    );
    return;
  }
  const address = arg('server', '127.0.0.1:50051');
  const token = arg('token');
  const n = Number(arg('agents', '100'));
  const windowMs = Number(arg('window-seconds', '10')) * 1000;
  const duration = Number(arg('duration-seconds', '0')) * 1000;
  const agents = Array.from(
    { length: n },
    (_, i) =>
      new SimAgent({
        address,
        agentId: randomUUID(),
        hostname: `sim-${String(i).padStart(4, '0')}`,
        labels: { env: i % 5 ? 'prod' : 'uat', dc: `dc${i % 2}`, role: ['db', 'web', 'mq'][i % 3] },
        enrollmentToken: token,
        window: 64,
      }),
  );
  await Promise.all(agents.map((a) => a.connect()));
  process.stdout.write(`fleet-sim: ${n} agents connected to ${address}\n`);
  const started = Date.now();
  let next = Math.ceil(started / windowMs) * windowMs;
  let seq = 0;
  while (!duration || Date.now() - started < duration) {
    await new Promise((r) => setTimeout(r, Math.max(0, next + windowMs - Date.now())));
    seq++;
    await Promise.all(agents.map((a, i) => a.send(makeWindow(i, seq, next, windowMs))));
    next += windowMs;
    const lat = agents.flatMap((a) => a.latenciesMs.splice(0)).sort((a, b) => a - b);
    process.stdout.write(
      `window ${seq}: ${lat.length} acks, p50 ${lat[Math.floor(lat.length / 2)]?.toFixed(1) ?? '-'} ms\n`,
    );
  }
  agents.forEach((a) => a.close());
}

main().catch((err: Error) => {
  process.stderr.write(`fleet-sim: ${err.message}\n`);
  process.exit(1);
});

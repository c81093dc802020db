import type { PortStat__Output } from '@tidewatch/proto';
import type { SampleDelta } from '../aggregate/window';
import { PROTOCOLS, type ProtocolName } from '../collector/port';

export interface TopFrame {
  atMs: number;
  delta: SampleDelta;
  ports: PortStat__Output[];
  interfaces: string[];
  masking: string;
}

function human(n: number, unit: string): string {
  const steps = ['', 'K', 'M', 'G', 'T'];
  let i = 0;
  while (Math.abs(n) >= 1000 && i < steps.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n.toFixed(n >= 100 || i === 0 ? 0 : 1)}${steps[i]}${unit}`;
}

const pad = (s: string | number, n: number) => String(s).padStart(n);

/** One screen of `top`: per-second figures from the last sample. */
export function renderTop(f: TopFrame): string {
  const secs = f.delta.elapsedSeconds || 1;
  const lines: string[] = [];
  lines.push(
    `tidewatch top — ${new Date(f.atMs).toISOString().slice(11, 19)} UTC — ${f.interfaces.length} interface(s): ${f.interfaces.join(', ') || '(none)'} — masking ${f.masking}`,
  );
  const byProto = new Map<ProtocolName, { pk: number; by: number }>();
  const byDir = { ingress: { pk: 0, by: 0 }, egress: { pk: 0, by: 0 } };
  let totalBytes = 0;
  for (const t of f.delta.traffic) {
    const p = byProto.get(t.protocol) ?? { pk: 0, by: 0 };
    p.pk += t.packets;
    p.by += t.bytes;
    byProto.set(t.protocol, p);
    byDir[t.direction].pk += t.packets;
    byDir[t.direction].by += t.bytes;
    totalBytes += t.bytes;
  }
  lines.push('', 'PROTOCOL      pkt/s      bit/s   share');
  for (const proto of PROTOCOLS) {
    const p = byProto.get(proto) ?? { pk: 0, by: 0 };
    const share = totalBytes > 0 ? (100 * p.by) / totalBytes : 0;
    lines.push(
      `${proto.padEnd(8)} ${pad(human(p.pk / secs, ''), 10)} ${pad(human((p.by * 8) / secs, 'b'), 10)} ${pad(share.toFixed(1), 6)}%`,
    );
  }
  lines.push('', 'DIRECTION     pkt/s      bit/s');
  for (const d of ['ingress', 'egress'] as const) {
    lines.push(
      `${d.padEnd(8)} ${pad(human(byDir[d].pk / secs, ''), 10)} ${pad(human((byDir[d].by * 8) / secs, 'b'), 10)}`,
    );
  }
  lines.push('', 'TOP SERVER PORTS   bit/s   conns');
  for (const p of f.ports) {
    const proto = p.protocol.replace('PROTOCOL_', '').toLowerCase();
    lines.push(
      `${`${p.port}/${proto}`.padEnd(12)} ${pad(human((p.bytes * 8) / secs, 'b'), 10)} ${pad(p.connections, 7)}${p.abnormal ? '  ABNORMAL' : ''}`,
    );
  }
  if (f.ports.length === 0) lines.push('(no flows this second)');
  const t = f.delta.tcp;
  lines.push(
    '',
    `TCP  opened/s client ${t.openedClient} server ${t.openedServer}   failed ${t.failed}   closed ${t.closed}   active ${f.delta.active}   retransmits ${t.retransmits}`,
  );
  if (f.delta.flowTableFull > 0)
    lines.push(
      `flow table full: ${f.delta.flowTableFull} flow records missed (counters above stay exact)`,
    );
  return lines.join('\n') + '\n';
}

import { readFile } from 'node:fs/promises';
import type { Endpoint } from './network';

/** An interface's own counters from /sys/class/net/IF/statistics. */
export interface InterfaceStats {
  rxPackets: bigint;
  rxBytes: bigint;
  txPackets: bigint;
  txBytes: bigint;
}

const FILES = ['rx_packets', 'rx_bytes', 'tx_packets', 'tx_bytes'] as const;

/** Reads the kernel's own counters of an endpoint's interface. */
export async function readInterfaceStats(ep: Endpoint): Promise<InterfaceStats> {
  const paths = FILES.map((f) => `/sys/class/net/${ep.ifname}/statistics/${f}`);
  let values: string[];
  if (ep.netns.isHost) {
    values = await Promise.all(paths.map((p) => readFile(p, 'utf8')));
  } else {
    // `ip netns exec` mounts the namespace's own /sys.
    const { stdout } = await ep.netns.exec('cat', paths);
    values = stdout.trim().split('\n');
  }
  const [rxPackets, rxBytes, txPackets, txBytes] = values.map((v) => BigInt(v.trim()));
  return { rxPackets, rxBytes, txPackets, txBytes };
}

/** after − before, field by field. */
export function statsDelta(before: InterfaceStats, after: InterfaceStats): InterfaceStats {
  return {
    rxPackets: after.rxPackets - before.rxPackets,
    rxBytes: after.rxBytes - before.rxBytes,
    txPackets: after.txPackets - before.txPackets,
    txBytes: after.txBytes - before.txBytes,
  };
}

/**
 * Waits until the counters of every endpoint stay unchanged for quietMs
 * (link-up chatter such as MLD reports is over). Rejects after timeoutMs.
 */
export async function waitQuiet(eps: Endpoint[], quietMs = 300, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const snap = async () =>
    JSON.stringify(
      await Promise.all(
        eps.map(async (e) => {
          const s = await readInterfaceStats(e);
          return [s.rxPackets, s.txPackets].map(String);
        }),
      ),
    );
  let last = await snap();
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    if (Date.now() > deadline) throw new Error('interfaces did not go quiet');
    await new Promise((r) => setTimeout(r, 50));
    const now = await snap();
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
}

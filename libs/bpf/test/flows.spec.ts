// Per-flow records: a tiny flow table overflows and flow_table_full counts
// every packet that found no entry, while the exact counters stay exact;
// records turned off and on at run time; draining under traffic loses no
// increment (the drained flows sum to the exact counters).
import {
  readInterfaceStats,
  sendUdp,
  statsDelta,
  useTestNetwork,
  waitQuiet,
  type Link,
} from '@tidewatch/testhosts';
import { Collector, loadAddon, type FlowRecord, type TrafficRow } from '../src';
import { CONFIG, FLOWS_BITS } from '../src/layout';
import type { NativeHandle } from '../src/native';
import { describeKernel, OBJECTS } from './support/describe-kernel';

// A failure bound only: emulated old-kernel guests (tools/kernel-tests) are slow.
jest.setTimeout(300_000);

const sumRows = (rows: TrafficRow[], iface: string) =>
  rows.filter((r) => r.iface === iface).reduce((s, r) => s + r.packets, 0n);
const sumFlows = (flows: FlowRecord[], ifindex: number) =>
  flows.filter((f) => f.ifindex === ifindex).reduce((s, f) => s + f.packets, 0n);

describeKernel('flow records', () => {
  const net = useTestNetwork();
  let link: Link;

  beforeAll(async () => {
    const ns = await net.namespace('flows');
    link = await net.link(net.host, ns);
  });

  // The legacy object drains key by key, as it would on 4.19 (no batch ops);
  // the modern one with batch lookup-and-delete.
  describe.each(OBJECTS.map((o) => [o, o === 'modern'] as const))(
    '%s object, batch ops: %s',
    (object, batchOps) => {
      it('counts misses of a full flow table while the exact counters stay exact', async () => {
        const collector = await Collector.open({ object, batchOps, flowTableSize: 4 });
        try {
          const iface = await collector.attachInterface(link.a.ifname);
          await waitQuiet([link.a, link.b]);
          await collector.drainFlows();
          await collector.drainFlows();
          const e0 = await collector.readErrors();
          const rows0 = await collector.readTraffic();
          const s0 = await readInterfaceStats(link.a);
          // 60 datagrams from 60 source ports: 60 flows for a 4-entry table.
          const count = 60;
          expect(await sendUdp(link.a, link.b, { family: 4, count, size: 64, spread: true })).toBe(
            count,
          );
          await waitQuiet([link.a, link.b], 200);
          const counted =
            sumRows(await collector.readTraffic(), iface.name) - sumRows(rows0, iface.name);
          const ifd = statsDelta(s0, await readInterfaceStats(link.a));
          expect(counted).toBe(ifd.txPackets + ifd.rxPackets);
          expect(ifd.txPackets).toBe(BigInt(count));

          const flows = [...(await collector.drainFlows()), ...(await collector.drainFlows())];
          const e1 = await collector.readErrors();
          const full = e1.flowTableFull - e0.flowTableFull;
          expect(flows.filter((f) => f.ifindex === iface.ifindex).length).toBeLessThanOrEqual(4);
          expect(full).toBeGreaterThan(0n);
          expect(e1.flowUpdate - e0.flowUpdate).toBe(0n);
          // Every packet is either in a flow record or counted as a miss.
          expect(sumFlows(flows, iface.ifindex) + full).toBe(counted);
        } finally {
          await collector.close();
        }
      });

      // One config word holds the on bit (setFlowsEnabled) and the table bit
      // (each drain flips it): turning records off and on must leave the
      // table bit alone, with either table active.
      it('turns flow records off and on with either table active, exactly', async () => {
        const collector = await Collector.open({ object, batchOps });
        // The word itself, through the addon (the collector keeps its handle private).
        const handle = (collector as unknown as { handle: NativeHandle }).handle;
        const word = () => loadAddon().readConfig(handle, CONFIG.flows);
        const tables = new Set<bigint>();
        try {
          const iface = await collector.attachInterface(link.a.ifname);
          await waitQuiet([link.a, link.b]);
          for (const extraDrain of [false, true]) {
            await collector.drainFlows();
            await collector.drainFlows();
            if (extraDrain) await collector.drainFlows(); // the other table active
            const table = word() & BigInt(FLOWS_BITS.tableB);
            tables.add(table);
            expect(word()).toBe(table | BigInt(FLOWS_BITS.on));
            const phase = async (count: number) => {
              const rows0 = await collector.readTraffic();
              expect(await sendUdp(link.a, link.b, { family: 4, count, size: 32 })).toBe(count);
              await waitQuiet([link.a, link.b], 200);
              const counted =
                sumRows(await collector.readTraffic(), iface.name) - sumRows(rows0, iface.name);
              const flows = [...(await collector.drainFlows()), ...(await collector.drainFlows())];
              return { counted, recorded: sumFlows(flows, iface.ifindex) };
            };
            collector.setFlowsEnabled(false);
            expect(word()).toBe(table);
            const off = await phase(20);
            expect(off.counted).toBeGreaterThanOrEqual(20n);
            expect(off.recorded).toBe(0n);
            collector.setFlowsEnabled(true);
            expect(word()).toBe(table | BigInt(FLOWS_BITS.on));
            const on = await phase(30);
            expect(on.counted).toBeGreaterThanOrEqual(30n);
            expect(on.recorded).toBe(on.counted);
          }
          expect(tables).toEqual(new Set([0n, 1n]));
          expect((await collector.readErrors()).flowUpdate).toBe(0n);
        } finally {
          await collector.close();
        }
      });

      it('loses no increment when draining under traffic', async () => {
        const collector = await Collector.open({ object, batchOps });
        try {
          const iface = await collector.attachInterface(link.a.ifname);
          await waitQuiet([link.a, link.b]);
          await collector.drainFlows();
          await collector.drainFlows();
          const rows0 = await collector.readTraffic();
          const drained: FlowRecord[] = [];
          let sending = true;
          let drainsWithData = 0;
          const drainer = (async () => {
            while (sending) {
              const batch = await collector.drainFlows();
              if (batch.some((f) => f.ifindex === iface.ifindex)) drainsWithData++;
              drained.push(...batch);
              await new Promise((r) => setTimeout(r, 5));
            }
          })();
          const count = 6000;
          await Promise.all([
            sendUdp(link.a, link.b, { family: 4, count, size: 32 }),
            sendUdp(link.a, link.b, { family: 6, count, size: 32 }),
          ]);
          sending = false;
          await drainer;
          // The drains really raced the traffic.
          expect(drainsWithData).toBeGreaterThanOrEqual(3);
          await waitQuiet([link.a, link.b], 200);
          // Two more drains empty both tables. Ground truth: the exact counters.
          drained.push(...(await collector.drainFlows()), ...(await collector.drainFlows()));
          const counted =
            sumRows(await collector.readTraffic(), iface.name) - sumRows(rows0, iface.name);
          expect(counted).toBeGreaterThanOrEqual(BigInt(2 * count));
          expect(sumFlows(drained, iface.ifindex)).toBe(counted);
          expect((await collector.readErrors()).flowTableFull).toBe(0n);
          const udp = drained.filter((f) => f.ifindex === iface.ifindex && f.ipProto === 17);
          expect(new Set(udp.map((f) => f.family))).toEqual(new Set(['ipv4', 'ipv6']));
          expect(udp.every((f) => f.direction === 'egress' && f.firstSeenNs <= f.lastSeenNs)).toBe(
            true,
          );
        } finally {
          await collector.close();
        }
      });
    },
  );
});

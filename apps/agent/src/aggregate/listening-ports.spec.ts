import { createServer, type Server } from 'node:net';
import { createSocket } from 'node:dgram';
import { isLoopbackHex, parseProcNet, readListening } from './listening-ports';

// Ground truth: sockets this test opens in its own network namespace, read back
// from the kernel's tables; and the tables' documented text layout.

describe('listening sockets from /proc/net', () => {
  it('parses LISTEN rows of tcp and unconnected rows of udp, with loopback-only addresses', () => {
    const tcp = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1',
      '   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1',
      '   2: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 3 1',
    ].join('\n');
    expect(parseProcNet(tcp, 'tcp', false)).toEqual([
      { port: 8080, loopback: true },
      { port: 22, loopback: false },
    ]);
    const udp6 = [
      '  sl  local_address                         remote_address                        st',
      '   0: 00000000000000000000000001000000:0035 00000000000000000000000000000000:0000 07 0',
      '   1: 00000000000000000000000000000000:0202 00000000000000000000000000000000:0000 07 0',
      '   2: 00000000000000000000000000000000:1388 20010DB8000000000000000000000001:0035 01 0',
    ].join('\n');
    expect(parseProcNet(udp6, 'udp', true)).toEqual([
      { port: 53, loopback: true },
      { port: 514, loopback: false },
    ]);
    expect(isLoopbackHex('0000000000000000FFFF00000100007F', true)).toBe(true);
  });

  it('sees the TCP and UDP sockets this process opens, and loses them when closed', async () => {
    const tcp: Server = createServer();
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    const tcpPort = (tcp.address() as { port: number }).port;
    const udp = createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(0, '0.0.0.0', resolve));
    const udpPort = udp.address().port;
    try {
      const set = readListening();
      expect(set.known).toBe(true);
      expect(set.ports).toEqual(
        expect.arrayContaining([
          { port: tcpPort, protocol: 'PROTOCOL_TCP', loopbackOnly: true },
          { port: udpPort, protocol: 'PROTOCOL_UDP', loopbackOnly: false },
        ]),
      );
    } finally {
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
      udp.close();
    }
    const after = readListening().ports;
    expect(after.find((p) => p.port === tcpPort && p.protocol === 'PROTOCOL_TCP')).toBeUndefined();
    expect(readListening('/nonexistent').known).toBe(false);
  });
});

import * as grpc from '@grpc/grpc-js';
import * as protobuf from 'protobufjs';
import {
  INGEST_PROTO,
  loadTidewatchV1,
  type AgentMessage,
  type AgentMessage__Output,
  type ServerMessage,
  type ServerMessage__Output,
} from '../src';

describe('tidewatch.v1 contract over a real gRPC socket', () => {
  let server: grpc.Server;
  let port: number;
  const received: AgentMessage__Output[] = [];

  beforeAll(async () => {
    const v1 = loadTidewatchV1();
    server = new grpc.Server();
    server.addService(v1.Ingest.service, {
      Stream: (call: grpc.ServerDuplexStream<AgentMessage__Output, ServerMessage>) => {
        call.on('data', (msg: AgentMessage__Output) => {
          received.push(msg);
          if (msg.body === 'hello') {
            call.write({ welcome: { agentId: msg.hello!.agentId, highestSequence: 41 } });
          } else if (msg.body === 'batch') {
            call.write({ ack: { sequence: msg.batch!.sequence } });
          }
        });
        call.on('end', () => call.end());
      },
    });
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
  });

  afterAll(() => server.forceShutdown());

  it('carries Hello/Welcome and Batch/Ack with every aggregate intact', async () => {
    const v1 = loadTidewatchV1();
    const client = new v1.Ingest(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const call = client.Stream();
    const replies: ServerMessage__Output[] = [];
    const done = new Promise<void>((resolve, reject) => {
      call.on('data', (m: ServerMessage__Output) => replies.push(m));
      call.on('end', resolve);
      call.on('error', reject);
    });
    const batch: AgentMessage = {
      batch: {
        sequence: 42,
        windowStartMs: 1_700_000_000_000,
        windowEndMs: 1_700_000_010_000,
        traffic: [
          {
            iface: 'eth0',
            direction: 'DIRECTION_EGRESS',
            family: 'FAMILY_IPV6',
            protocol: 'PROTOCOL_ICMPV6',
            packets: 3,
            bytes: 2 ** 40 + 7,
          },
        ],
        connections: { openedClient: 5, durationBoundsMs: [1, 10], durationCounts: [1, 2, 3] },
      },
    };
    call.write({ hello: { agentId: 'a-1', hostname: 'h', labels: { dc: 'sh' } } });
    call.write(batch);
    call.end();
    await done;
    client.close();

    expect(replies.map((r) => r.body)).toEqual(['welcome', 'ack']);
    expect(replies[0].welcome!.highestSequence).toBe(41);
    expect(replies[1].ack!.sequence).toBe(42);
    const got = received.find((m) => m.body === 'batch')!.batch!;
    expect(got.traffic[0]).toEqual({
      iface: 'eth0',
      direction: 'DIRECTION_EGRESS',
      family: 'FAMILY_IPV6',
      protocol: 'PROTOCOL_ICMPV6',
      packets: 3,
      bytes: 2 ** 40 + 7,
    });
    expect(got.connections!.durationCounts).toEqual([1, 2, 3]);
    expect(received.find((m) => m.body === 'hello')!.hello!.labels).toEqual({ dc: 'sh' });
  });

  it('tolerates fields it does not know (a newer agent talking to this server)', async () => {
    // A newer contract with an extra field on Hello, encoded by protobufjs.
    const root = await protobuf.load(INGEST_PROTO);
    const Hello = root.lookupType('tidewatch.v1.Hello');
    Hello.add(new protobuf.Field('future_field', 999, 'string'));
    const AgentMessage = root.lookupType('tidewatch.v1.AgentMessage');
    const bytes = AgentMessage.encode(
      AgentMessage.create({ hello: Hello.create({ agentId: 'new', futureField: 'x' }) }),
    ).finish();

    const current = (await protobuf.load(INGEST_PROTO)).lookupType('tidewatch.v1.AgentMessage');
    const decoded = current.toObject(current.decode(bytes)) as { hello: { agentId: string } };
    expect(decoded.hello.agentId).toBe('new');
  });
});

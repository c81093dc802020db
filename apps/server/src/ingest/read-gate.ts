import * as grpc from '@grpc/grpc-js';

/**
 * grpc-js reads the next message of a stream whenever the handler's Readable
 * wants one: up to 16 decoded messages ahead of a paused handler. The gate
 * holds each such read until the session passes it, so a stream is read no
 * further than its credit and the server-wide budget allow; what the agent
 * sent beyond waits in HTTP/2 flow control (at most the stream's window).
 */
export class ReadGate {
  /** The stream asked for a message and was not given one yet. */
  private wanted = false;
  /** Called when the stream asks. */
  onWant: () => void = () => undefined;

  constructor(private readonly read: () => void) {}

  get waiting(): boolean {
    return this.wanted;
  }

  request(): void {
    this.wanted = true;
    this.onWant();
  }

  /** Lets one message (or the half-close) through. */
  pass(): void {
    if (!this.wanted) return;
    this.wanted = false;
    this.read();
  }
}

/** The handler finds its call's gate by the call's metadata (the same object through the chain). */
const gates = new WeakMap<grpc.Metadata, ReadGate>();

class GatedCall extends grpc.ServerInterceptingCall {
  constructor(
    next: grpc.ServerInterceptingCallInterface,
    private readonly gate: ReadGate,
  ) {
    super(next, {
      start: (go) =>
        go({
          onReceiveMetadata: (metadata, forward) => {
            gates.set(metadata, gate);
            forward(metadata);
          },
        }),
    });
  }

  override startRead(): void {
    this.gate.request();
  }
}

/** Installs a ReadGate on every call of `path`. */
export function readGateInterceptor(path: string): grpc.ServerInterceptor {
  return (method, call) =>
    method.path === path
      ? new GatedCall(call, new ReadGate(() => call.startRead()))
      : new grpc.ServerInterceptingCall(call);
}

export function readGateOf(call: { metadata: grpc.Metadata }): ReadGate {
  const gate = gates.get(call.metadata);
  if (!gate)
    throw new Error('ingest stream without a read gate (readGateInterceptor not installed)');
  return gate;
}

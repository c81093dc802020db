import type { AgentMessage__Output } from '@tidewatch/proto';

/** What the stream sees instead of a message whose bytes did not parse. */
export interface MalformedMessage {
  malformed: true;
  error: string;
}

export function isMalformed(m: AgentMessage__Output | MalformedMessage): m is MalformedMessage {
  return (m as MalformedMessage).malformed === true;
}

/**
 * Wraps a request deserializer so that bad bytes reach the session (which
 * answers INVALID_ARGUMENT) instead of grpc-js's generic INTERNAL.
 */
export function safeDeserializer<T>(
  inner: (buf: Buffer) => T,
): (buf: Buffer) => T | MalformedMessage {
  return (buf: Buffer) => {
    try {
      return inner(buf);
    } catch (err) {
      return { malformed: true, error: (err as Error).message };
    }
  };
}

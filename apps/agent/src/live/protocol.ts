import { join } from 'node:path';
import type { WindowEvent } from '../agent/agent';
import type { TopFrame } from '../top/render';

/** The running agent's local socket, in its state directory (next to agent.lock). */
export const LIVE_SOCKET = 'agent.sock';

export function liveSocketPath(stateDir: string): string {
  return join(stateDir, LIVE_SOCKET);
}

/**
 * What the running agent streams to `top` and `export`: one JSON object per
 * line. Everything in it is already masked by the agent's masker.
 */
export type LiveFrame =
  | {
      type: 'hello';
      pid: number;
      interfaces: string[];
      masking: string;
      windowSeconds: number;
    }
  | { type: 'sample'; frame: TopFrame }
  | { type: 'window'; window: WindowEvent };

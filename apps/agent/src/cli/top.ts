import { Agent } from '../agent/agent';
import { openCollector } from '../collector/open';
import { resolveAgentId } from '../identity/agent-id';
import { ServerPortResolver } from '../aggregate/server-port';
import { globToRegExp } from '../interfaces/discovery';
import { connectLive, type LiveClient } from '../live/client';
import { liveSocketPath } from '../live/protocol';
import { topFrame } from '../live/server';
import { renderTop, type TopFrame } from '../top/render';
import { setUp } from './common';
import type { CommonFlags } from './options';
import { preflight } from './preflight';
import { lockStateDir } from '../state/instance-lock';
import { AGENT_VERSION } from './version';

/**
 * Draws frames until q, Ctrl-C, --count frames or `source` ends. `subscribe`
 * hands each frame to the callback and returns how to stop the source.
 */
async function drawFrames(
  count: string | undefined,
  subscribe: (onFrame: (f: TopFrame) => void, onEnd: () => void) => void,
): Promise<void> {
  const tty = process.stdout.isTTY;
  const limit = count ? Number(count) : Infinity;
  let frames = 0;
  let finished = false;
  await new Promise<void>((resolve) => {
    const done = () => {
      if (finished) return;
      finished = true;
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      if (process.stdin.isTTY) process.stdin.setRawMode(false);
      process.stdin.pause();
      resolve();
    };
    subscribe((f) => {
      if (finished) return;
      const screen = renderTop(f);
      process.stdout.write(tty ? `\x1b[H\x1b[2J${screen}` : `${screen}\n`);
      if (++frames >= limit) done();
    }, done);
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
    if (process.stdin.isTTY) {
      process.stdin.setRawMode(true);
      process.stdin.resume();
      process.stdin.on('data', (key: Buffer) => {
        if (key[0] === 0x71 || key[0] === 0x03) done(); // q or Ctrl-C
      });
    }
  });
}

/** The running agent's frames, narrowed to --interfaces when given. */
async function topFromAgent(live: LiveClient, flags: { interfaces?: string; count?: string }) {
  const only = flags.interfaces
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(globToRegExp);
  let ended = false;
  await drawFrames(flags.count, (onFrame, onEnd) => {
    live.on('sample', (f) => {
      if (!only) return onFrame(f);
      onFrame({
        ...f,
        interfaces: f.interfaces.filter((i) => only.some((r) => r.test(i))),
        delta: {
          ...f.delta,
          traffic: f.delta.traffic.filter((t) => only.some((r) => r.test(t.iface))),
        },
      });
    });
    live.on('close', () => {
      ended = true;
      onEnd();
    });
  });
  live.close();
  if (ended) process.stderr.write('top: the running agent stopped\n');
}

/**
 * `top`: a live view refreshed each second, until q, Ctrl-C or --count frames.
 * Beside a running agent (its socket in the state directory) it shows that
 * agent's samples; without one it loads the programs itself.
 */
export async function topCommand(flags: CommonFlags & { count?: string }): Promise<number> {
  const { config, masker, logger } = setUp({ logLevel: 'warn', ...flags });
  const live = await connectLive(liveSocketPath(config.stateDir));
  if (live) {
    await topFromAgent(live, flags);
    return 0;
  }
  preflight(config);
  // Same TC slot as `run`: never alongside an agent that uses this state directory.
  const lock = lockStateDir(config.stateDir, 'top', false, (m) => logger.warn(m));
  const agent = new Agent({
    config,
    collector: await openCollector(config, lock, logger),
    logger,
    masker,
    agentId: resolveAgentId(config.agentId, config.stateDir),
    version: AGENT_VERSION,
    deliver: false,
    serveMetrics: false,
  });
  const resolver = new ServerPortResolver();
  await agent.start();
  await drawFrames(flags.count, (onFrame) =>
    agent.on('sample', (sample, delta) =>
      onFrame(topFrame(agent, resolver, sample, delta, config)),
    ),
  );
  await agent.stop();
  lock?.release();
  return 0;
}

import { Agent } from '../agent/agent';
import { openCollector } from '../collector/open';
import { resolveAgentId } from '../identity/agent-id';
import { ServerPortResolver } from '../aggregate/server-port';
import { summarizeFlows } from '../aggregate/flow-summary';
import { renderTop } from '../top/render';
import { setUp, type CommonFlags } from './common';
import { preflight } from './preflight';
import { lockStateDir } from '../state/instance-lock';
import { AGENT_VERSION } from './version';

/** `top`: a live view refreshed each second, until q, Ctrl-C or --count frames. */
export async function topCommand(flags: CommonFlags & { count?: string }): Promise<number> {
  const { config, masker, logger } = setUp({ logLevel: 'warn', ...flags });
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
  const tty = process.stdout.isTTY;
  const limit = flags.count ? Number(flags.count) : Infinity;
  let frames = 0;
  let finished = false;
  await agent.start();
  await new Promise<void>((resolve) => {
    const done = () => {
      finished = true;
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      if (process.stdin.isTTY) process.stdin.setRawMode(false);
      process.stdin.pause();
      resolve();
    };
    agent.on('sample', (sample, delta) => {
      if (finished) return;
      const servers = resolver.resolve(sample.flows);
      const { ports } = summarizeFlows(sample.flows, servers, {
        topN: config.topN,
        portAllowlist: new Set(config.portAllowlist),
        masker: agent.currentMasker,
      });
      const screen = renderTop({
        atMs: sample.atMs,
        delta,
        ports,
        interfaces: agent.watchedInterfaces,
        masking: agent.currentMasker.mode,
      });
      process.stdout.write(tty ? `\x1b[H\x1b[2J${screen}` : `${screen}\n`);
      if (++frames >= limit) done();
    });
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
  await agent.stop();
  lock?.release();
  return 0;
}

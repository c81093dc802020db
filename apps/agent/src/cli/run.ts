import { Agent } from '../agent/agent';
import { openCollector } from '../collector/open';
import { resolveAgentId } from '../identity/agent-id';
import { gatherDoctor } from './doctor';
import { setUp, type CommonFlags } from './common';
import { preflight } from './preflight';
import { lockStateDir } from '../state/instance-lock';
import { AGENT_VERSION } from './version';

/** `run`: until SIGTERM/SIGINT, then flush the last window, detach, exit 0. */
export async function runCommand(flags: CommonFlags): Promise<number> {
  const { config, masker, logger } = setUp(flags);
  preflight(config);
  // Before anything touches the kernel: a second agent on this state directory stops here.
  const lock = lockStateDir(config.stateDir, 'run', config.server !== undefined, (m) =>
    logger.warn(m),
  );
  const collector = await openCollector(config, lock, logger);
  const agent = new Agent({
    config,
    collector,
    logger,
    masker,
    agentId: resolveAgentId(config.agentId, config.stateDir),
    version: AGENT_VERSION,
    capabilities: gatherDoctor().checks.map((c) => ({
      name: c.name,
      available: c.ok,
      used: c.ok,
      detail: c.detail,
    })),
  });
  try {
    await agent.start();
  } catch (err) {
    await agent.stop().catch(() => undefined);
    throw err;
  }
  await new Promise<void>((resolve) => {
    const onSignal = (sig: NodeJS.Signals) => {
      logger.info({ signal: sig }, 'stopping');
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  await agent.stop();
  lock?.release();
  return 0;
}

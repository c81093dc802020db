import { Agent } from '../agent/agent';
import { openCollector } from '../collector/open';
import { resolveAgentId } from '../identity/agent-id';
import { gatherDoctor } from './doctor';
import { setUp } from './common';
import type { CommonFlags } from './options';
import { preflight } from './preflight';
import { lockStateDir } from '../state/instance-lock';
import { AGENT_VERSION } from './version';
import { LiveServer } from '../live/server';
import { missingLaunchSettings } from '../health/launch-flags';
import { liveSocketPath } from '../live/protocol';

/** `run`: until SIGTERM/SIGINT, then flush the last window, detach, exit 0. */
export async function runCommand(flags: CommonFlags): Promise<number> {
  const { config, masker, logger } = setUp(flags);
  preflight(config);
  const missing = missingLaunchSettings();
  if (missing.length > 0)
    logger.info(
      { missing },
      'started without the launch settings of the bin, the systemd unit and npm start: about 10 MB more memory (README, bench:agent memory)',
    );
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
  // top and export read this while run runs; only the lock holder owns the state directory.
  let live: LiveServer | undefined;
  if (lock?.held) {
    try {
      live = await LiveServer.listen(
        liveSocketPath(config.stateDir),
        agent,
        {
          topN: config.topN,
          portAllowlist: config.portAllowlist,
          windowSeconds: config.windowSeconds,
          group: config.localSocketGroup,
        },
        logger,
      );
      logger.info(
        { socket: live.path, group: config.localSocketGroup },
        'serving top and export on the local socket',
      );
    } catch (err) {
      logger.warn(
        `cannot serve the local socket for top and export (${(err as Error).message}); they will not run beside this agent`,
      );
    }
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
  await live?.close();
  await agent.stop();
  lock?.release();
  return 0;
}

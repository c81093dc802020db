import { writeFileSync } from 'node:fs';
import { Agent, type WindowEvent } from '../agent/agent';
import { openCollector } from '../collector/open';
import { ConfigError } from '../config/errors';
import { parseDurationSeconds } from '../config/units';
import { resolveAgentId } from '../identity/agent-id';
import { toCsv, toJson } from '../export/format';
import { setUp } from './common';
import type { CommonFlags } from './options';
import { preflight } from './preflight';
import { lockStateDir } from '../state/instance-lock';
import { AGENT_VERSION } from './version';
import { connectLive, type LiveClient } from '../live/client';
import { liveSocketPath } from '../live/protocol';

export interface ExportFlags extends CommonFlags {
  format: string;
  duration: string;
  output: string;
}

/** `export`: watch for --duration, then write the windows and their top flows (masked). */
export async function exportCommand(flags: ExportFlags): Promise<number> {
  if (flags.format !== 'csv' && flags.format !== 'json') {
    throw new ConfigError(`--format must be csv or json, not "${flags.format}"`);
  }
  const seconds = parseDurationSeconds(flags.duration);
  if (seconds === undefined || seconds < 1) {
    throw new ConfigError(
      `--duration must be a duration of at least 1s such as 30s or 5m, not "${flags.duration}"`,
    );
  }
  const { config, masker, logger } = setUp({ logLevel: 'warn', ...flags });
  // Fail on an unwritable output now, not after the whole duration.
  try {
    writeFileSync(flags.output, '');
  } catch (err) {
    throw new ConfigError(`cannot write --output ${flags.output}: ${(err as Error).message}`);
  }
  const live = await connectLive(liveSocketPath(config.stateDir));
  if (live) return exportFromAgent(live, flags, seconds);
  // Windows no longer than the export, so that a short export still has whole windows.
  config.windowSeconds = Math.max(1, Math.min(config.windowSeconds, Math.floor(seconds)));
  preflight(config);
  // Same TC slot as `run`: never alongside an agent that uses this state directory.
  const lock = lockStateDir(config.stateDir, 'export', false, (m) => logger.warn(m));
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
  const windows: WindowEvent[] = [];
  let packets = 0;
  agent.on('window', (w) => windows.push(w));
  agent.on('sample', (_s, d) => d.traffic.forEach((t) => (packets += t.packets)));
  const started = Date.now();
  const showProgress = seconds >= 10;
  const progress = setInterval(() => {
    const elapsed = Math.round((Date.now() - started) / 1000);
    const line = `export: ${elapsed}s / ${seconds}s, ${windows.length} windows, ${packets} packets`;
    if (process.stderr.isTTY) process.stderr.write(`\r${line}`);
    else if (elapsed % 10 === 0) process.stderr.write(`${line}\n`);
  }, 1000);
  if (!showProgress) clearInterval(progress);
  await agent.start();
  process.stderr.write(
    `export: watching ${agent.watchedInterfaces.join(', ') || '(no interface yet)'} for ${seconds}s, ${config.windowSeconds}s windows, masking ${masker.mode}\n`,
  );
  let interrupted = false;
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, seconds * 1000);
    const stop = () => {
      interrupted = true;
      clearTimeout(t);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  clearInterval(progress);
  await agent.stop();
  lock?.release();
  if (showProgress && process.stderr.isTTY) process.stderr.write('\n');
  writeFileSync(
    flags.output,
    flags.format === 'csv' ? toCsv(windows) : toJson(windows, masker.mode),
  );
  process.stderr.write(
    `export: wrote ${windows.length} windows (${packets} packets, masking ${masker.mode}) to ${flags.output}${interrupted ? ' (interrupted early)' : ''}\n`,
  );
  return 0;
}

/**
 * Beside a running agent: its windows (its window length, already masked by
 * its masker) that close during --duration, read from its local socket.
 */
async function exportFromAgent(
  live: LiveClient,
  flags: ExportFlags,
  seconds: number,
): Promise<number> {
  const windows: WindowEvent[] = [];
  let packets = 0;
  live.on('window', (w) => windows.push(w));
  live.on('sample', (f) => f.delta.traffic.forEach((t) => (packets += t.packets)));
  const { masking, windowSeconds, pid, interfaces } = live.hello;
  process.stderr.write(
    `export: reading the running agent (pid ${pid}) on ${interfaces.join(', ') || '(no interface yet)'} for ${seconds}s, its ${windowSeconds}s windows, masking ${masking}\n`,
  );
  let interrupted = false;
  let agentStopped = false;
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, seconds * 1000);
    const stop = () => {
      interrupted = true;
      clearTimeout(t);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    live.once('close', () => {
      agentStopped = true;
      stop();
    });
  });
  live.close();
  writeFileSync(flags.output, flags.format === 'csv' ? toCsv(windows) : toJson(windows, masking));
  const why = agentStopped ? ' (the agent stopped)' : interrupted ? ' (interrupted early)' : '';
  process.stderr.write(
    `export: wrote ${windows.length} windows (${packets} packets, masking ${masking}) to ${flags.output}${why}\n`,
  );
  return 0;
}

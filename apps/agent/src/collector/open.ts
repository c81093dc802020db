import type { AgentConfig } from '../config/schema';
import type { CollectorPort } from './port';
import { AttachError } from './errors';
import type { InstanceLock } from '../state/instance-lock';
import type { Logger } from '../logging/logger';

type BpfModule = typeof import('./bpf-collector');

/**
 * The @tidewatch/bpf adapter, loaded lazily so that `--help`, config
 * validation and the unit tests never touch the kernel or the native addon.
 */
export function loadBpfModule(): BpfModule {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose, see above
    return require('./bpf-collector') as BpfModule;
  } catch (err) {
    throw new AttachError(
      `the eBPF collector (@tidewatch/bpf) cannot be loaded: ${(err as Error).message.split('\n')[0]}. Run "npm run setup" (or "npm run build -w @tidewatch/bpf").`,
    );
  }
}

/**
 * Opens the real eBPF collector. Filters a crashed run left behind are removed
 * before attaching only under the state directory's lock (InstanceLock): never
 * a live agent's.
 */
export async function openCollector(
  config: AgentConfig,
  lock: InstanceLock | undefined,
  logger: Logger,
): Promise<CollectorPort> {
  const mod = loadBpfModule();
  try {
    return await mod.BpfCollector.open({
      onTracefsMounted: (root) =>
        logger.info(
          { tracefs: root },
          'tracefs was not mounted where the agent runs (e.g. under ip netns exec): mounted it (CAP_SYS_ADMIN)',
        ),
      object: config.bpf.object,
      flowTableSize: config.bpf.flowTableSize,
      cleanupStale: lock?.held === true,
    });
  } catch (err) {
    throw new AttachError(
      `cannot load the eBPF programs: ${(err as Error).message}. Run "tidewatch-agent doctor" to see what this kernel lacks.`,
    );
  }
}

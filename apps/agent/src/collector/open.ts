import type { AgentConfig } from '../config/schema';
import type { Collector } from './collector';
import { AttachError } from '../agent/agent';

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

/** Opens the real eBPF collector. */
export async function openCollector(config: AgentConfig): Promise<Collector> {
  const mod = loadBpfModule();
  try {
    return await mod.BpfCollector.open({
      object: config.bpf.object,
      flowTableSize: config.bpf.flowTableSize,
    });
  } catch (err) {
    throw new AttachError(
      `cannot load the eBPF programs: ${(err as Error).message}. Run "tidewatch-agent doctor" to see what this kernel lacks.`,
    );
  }
}

import { ConfigError } from '../config/errors';
import type { AgentConfig } from '../config/schema';
import { AttachError } from '../collector/errors';
import { listInterfaces, missingNamedInterfaces } from '../interfaces/discovery';
import {
  effectiveCapabilities,
  kernelVersion,
  missingCapabilities,
  requiredCapabilities,
} from './capabilities';

/** Checks that need no kernel programs: named interfaces exist, capabilities present. */
export function preflight(config: AgentConfig): void {
  const all = listInterfaces();
  const missing = missingNamedInterfaces(all, config.interfaces);
  if (missing.length > 0) {
    throw new ConfigError(
      `unknown interface ${missing.join(', ')} (config key interfaces); present: ${all.map((i) => i.name).join(', ') || 'none'}`,
    );
  }
  const need = requiredCapabilities();
  const lacking = missingCapabilities(effectiveCapabilities(), need);
  if (lacking.length > 0) {
    const [maj, min] = kernelVersion();
    throw new AttachError(
      `missing capability ${lacking.join(', ')}: kernel ${maj}.${min} needs ${need.join(' ')}. ` +
        `Run as the systemd unit (AmbientCapabilities=${need.join(' ')}) or see "tidewatch-agent doctor".`,
    );
  }
}

import { Initial1795682467000 } from './1795682467000-initial';
import { AgentConfigAndDurations1795685678000 } from './1795685678000-agent-config-and-durations';

/** Every migration, in order. Listed explicitly so that ts-jest and dist load the same set. */
export const MIGRATIONS = [Initial1795682467000, AgentConfigAndDurations1795685678000];

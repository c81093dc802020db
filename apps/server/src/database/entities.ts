import { AgentConfigEntity } from '../agent-config/agent-config.entity';
import { EnrollmentTokenEntity } from '../enrollment/enrollment-token.entity';
import { HostEntity } from '../hosts/host.entity';

/** Every TypeORM entity; the time-series tables are plain SQL (see storage/series.ts). */
export const ENTITIES = [HostEntity, EnrollmentTokenEntity, AgentConfigEntity];

import { Initial1795682467000 } from './1795682467000-initial';
import { AgentConfigAndDurations1795685678000 } from './1795685678000-agent-config-and-durations';
import { AuditTrail1795690000000 } from './1795690000000-audit-trail';
import { UsersAndSignIn1795700000000 } from './1795700000000-users-and-sign-in';
import { AgentReset1795710000000 } from './1795710000000-agent-reset';
import { Anomalies1795720000000 } from './1795720000000-anomalies';
import { LdapUsers1795730000000 } from './1795730000000-ldap-users';
import { SecuritySettings1795740000000 } from './1795740000000-security-settings';
import { Reports1795745000000 } from './1795745000000-reports';
import { EnrollmentRetry1795750000000 } from './1795750000000-enrollment-retry';
import { RollupFillfactor1795760000000 } from './1795760000000-rollup-fillfactor';
import { ScanWindowsPartitioned1795770000000 } from './1795770000000-scan-windows-partitioned';
import { ReportRetention1795780000000 } from './1795780000000-report-retention';
import { AgentConfigLayers1795800000000 } from './1795800000000-agent-config-layers';
import { ReportImmutable1795810000000 } from './1795810000000-report-immutable';
import { FleetSweeps1795810000001 } from './1795810000001-fleet-sweeps';
import { FleetRollups1795820000000 } from './1795820000000-fleet-rollups';
import { FleetRollupTiers1795830000000 } from './1795830000000-fleet-rollup-tiers';

/** Every migration, in order. Listed explicitly so that ts-jest and dist load the same set. */
export const MIGRATIONS = [
  Initial1795682467000,
  AgentConfigAndDurations1795685678000,
  AuditTrail1795690000000,
  UsersAndSignIn1795700000000,
  AgentReset1795710000000,
  Anomalies1795720000000,
  LdapUsers1795730000000,
  SecuritySettings1795740000000,
  Reports1795745000000,
  EnrollmentRetry1795750000000,
  RollupFillfactor1795760000000,
  ScanWindowsPartitioned1795770000000,
  ReportRetention1795780000000,
  AgentConfigLayers1795800000000,
  ReportImmutable1795810000000,
  FleetSweeps1795810000001,
  FleetRollups1795820000000,
  FleetRollupTiers1795830000000,
];

/**
 * @tidewatch/bpf — the eBPF collection core: load, attach, read, drain, poll.
 * Typed API over the native addon; no policy (the agent decides what and when).
 */
export { Collector } from './collector';
export type {
  AttachedInterface,
  CollectorOptions,
  ConnectionEvent,
  DropRecord,
  EventListener,
  FlowRecord,
  FlowRecordBytes,
  KernelErrors,
  LostListener,
  PollErrorListener,
  ProgramStats,
  RetransmitRecord,
  TcpStats,
  TrafficRow,
} from './collector';
export { TidewatchBpfError } from './errors';
export {
  DIRECTIONS,
  FAMILIES,
  PROTOCOLS,
  ROLES,
  ERROR_KEYS,
  ERROR_NAMES,
  TCP_STAT_KEYS,
  ICMP_PORT_UNREACH,
} from './layout';
export type { Direction, Family, Protocol, Role, ErrorKey, TcpStatKey } from './layout';
export {
  addonAvailable,
  addonPath,
  hasObject,
  loadAddon,
  objectDir,
  objectPath,
  type ObjectKind,
} from './loader';
export {
  probeKernel,
  requiredCaps,
  verifierReason,
  verifierTail,
  verifyObject,
  type LoadCheck,
  parseCapEff,
  type FeatureReport,
  type KernelProbe,
  type ProbeSources,
} from './probe';
export {
  kfreeSkbReasonNames,
  kfreeSkbReasonOffset,
  parseFieldOffset,
  parseReasonNames,
  parseReasonOffset,
  tracepointOffsets,
  TRACEFS_ROOTS,
} from './tracefs';
export { addressBytes, formatAddress } from './address';

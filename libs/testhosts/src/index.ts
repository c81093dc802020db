/**
 * @tidewatch/testhosts — hosts for kernel tests: network namespaces joined by
 * veth pairs (198.18.0.0/15, fd00::/8, offloads off, permanent neighbours,
 * optional VLAN and netem), exact traffic between them, the interfaces' own
 * counters, and teardown that also runs when a test fails.
 */
export { TestNetwork, sweepStaleNamespaces } from './network';
export type { Endpoint, Link, LinkOptions } from './network';
export { NetNs } from './netns';
export { exec, background, Background } from './exec';
export type { ExecOptions, ExecResult } from './exec';
export { readInterfaceStats, statsDelta, waitQuiet } from './stats';
export type { InterfaceStats } from './stats';
export {
  sendUdp,
  ping,
  tcpConnections,
  connect,
  tcpBulk,
  sendArp,
  scanPorts,
  probeUdpPorts,
} from './traffic';
export type {
  IpFamily,
  UdpOptions,
  PingOptions,
  TcpOptions,
  TcpResult,
  BulkResult,
} from './traffic';
export { kernelTestGate, inCi, describeWhere, describeKernel } from './kernel-gate';
export type { KernelGate } from './kernel-gate';
export { exclusive } from './lock';
export { useTestNetwork } from './jest-hooks';
export { randomLinkAddresses, randomMac } from './addresses';
export { buildUdpFrame, sendFrames } from './frames';
export type { UdpFrameOptions, VlanTag } from './frames';
export { dropIncoming, tcpMib, destUnreachablesSent, unlimitIcmpErrors } from './netfilter';
export type { DropHandle, DropRule } from './netfilter';
export {
  PROMETHEUS,
  PROMTOOL,
  PrometheusServer,
  describePrometheus,
  promtool,
  promtoolCheckMetrics,
  scrapeConfig,
} from './prometheus';
export type { PromSample, ScrapeJob } from './prometheus';
export { PG_ADMIN_URL, createTestDatabase, postgresMissing } from './database';
export type { TestDatabase } from './database';

// What a compliance report holds: one document, rendered as JSON, CSV or PDF.
// Counters are exact decimal strings, like the traffic API's.

export const REPORT_FORMATS = ['json', 'csv', 'pdf'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];
export const REPORT_LANGS = ['zh-CN', 'en'] as const;
export type ReportLang = (typeof REPORT_LANGS)[number];

/** Defaults of the high-risk port list (SSH, NetBIOS/RPC 135–139, SMB, RDP). */
export const DEFAULT_HIGH_RISK_PORTS = [22, 135, 136, 137, 138, 139, 445, 3389];

export interface ReportScope {
  agentId?: string;
  labels?: string;
  /** Hosts in scope now. */
  hosts: number;
}

export interface HostCoverage {
  agentId: string;
  hostname: string;
  windows: string;
  /** Share of the part of the period the host was enrolled for that its windows cover, 0–100. */
  coveragePercent: number;
  /** Milliseconds of that part no window covers. */
  missingMs: number;
  lostBatches: string;
  masking: string;
}

export interface ReportDocument {
  kind: 'tidewatch.compliance-report';
  version: 1;
  lang: ReportLang;
  generatedAt: string;
  from: string;
  to: string;
  scope: ReportScope;
  coverage: {
    hostsInScope: number;
    hostsReporting: number;
    hostsSilent: string[];
    coveragePercent: number;
    lostBatches: string;
    gaps: {
      agentId: string;
      hostname: string;
      firstSequence: string;
      lastSequence: string;
      recordedAt: string;
    }[];
    hosts: HostCoverage[];
    maskingModes: Record<string, number>;
  };
  protocols: { protocol: string; packets: string; bytes: string; sharePercent: number }[];
  directions: { direction: string; packets: string; bytes: string; sharePercent: number }[];
  total: { packets: string; bytes: string };
  rates: {
    direction: string;
    avgBitsPerSecond: number;
    peakBitsPerSecond: number;
    avgPacketsPerSecond: number;
    peakPacketsPerSecond: number;
  }[];
  /** Bytes per hour (or minute for short periods) and direction, for the chart. */
  series: { stepSeconds: number | null; points: { t: string; key: string; bytes: string }[] };
  topPorts: {
    port: number;
    protocol: string;
    packets: string;
    bytes: string;
    connections: string;
    abnormal: boolean;
  }[];
  topTalkers: { src: string; dst: string; protocol: string; packets: string; bytes: string }[];
  connections: {
    windows: string;
    openedClient: string;
    openedServer: string;
    failed: string;
    closed: string;
    retransmits: string;
    peakOpenedPerSecond: number;
    activeMax: string;
    meanDurationMs: number;
  };
  highRiskPorts: {
    ports: number[];
    exposed: {
      agentId: string;
      hostname: string;
      protocol: string;
      port: number;
      loopbackOnly: boolean;
      firstSeen: string;
    }[];
  };
  anomalies: {
    total: number;
    byType: Record<string, number>;
    bySeverity: Record<string, number>;
    byStatus: Record<string, number>;
    acknowledged: number;
    resolved: number;
    /** Mean and longest first-seen → acknowledged / resolved, seconds (null: none). */
    meanSecondsToAcknowledge: number | null;
    maxSecondsToAcknowledge: number | null;
    meanSecondsToResolve: number | null;
    maxSecondsToResolve: number | null;
    items: {
      id: string;
      type: string;
      severity: string;
      status: string;
      hostname: string | null;
      firstSeen: string;
      acknowledgedBy: string | null;
      secondsToAcknowledge: number | null;
      resolvedBy: string | null;
      secondsToResolve: number | null;
      summary: string;
    }[];
    /** true when more anomalies overlapped the period than the list shows. */
    truncated: boolean;
  };
  audit: {
    operatorActions: number;
    operatorActionsByAction: Record<string, number>;
    failedSignIns: number;
    failedSignInsByUser: Record<string, number>;
    items: {
      sequence: string;
      time: string;
      actor: string | null;
      action: string;
      target: string | null;
      outcome: string;
    }[];
    truncated: boolean;
    chain: {
      ok: boolean;
      checked: number;
      mode: string;
      brokenAt: string | null;
      reason: string | null;
      head: { sequence: string; hash: string } | null;
      checkpointsEnabled: boolean;
      lastCheckpoint: { sequence: string; time: string } | null;
    };
  };
}

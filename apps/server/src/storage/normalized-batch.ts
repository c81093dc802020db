// A batch as validation leaves it and storage stores it (ingest/batch-validation.ts and
// scan-validation.ts check the wire message into these). Here, in storage, so that ingest
// depends on storage and not the reverse.

/** A batch checked field by field, in the shape the writer stores. */
export interface NormalizedBatch {
  sequence: number;
  windowStart: Date;
  windowEnd: Date;
  flowsSampled: boolean;
  traffic: {
    iface: string;
    direction: number;
    family: number;
    protocol: number;
    packets: number;
    bytes: number;
  }[];
  rates: {
    iface: string;
    direction: number;
    avgPps: number;
    peakPps: number;
    avgBps: number;
    peakBps: number;
  }[];
  ports: {
    port: number;
    protocol: number;
    packets: number;
    bytes: number;
    connections: number;
    abnormal: boolean;
  }[];
  talkers: { src: string; dst: string; protocol: number; packets: number; bytes: number }[];
  drops: { reason: string; count: number }[];
  abnormal: {
    peer: string;
    port: number;
    protocol: number;
    direction: number;
    connections: number;
  }[];
  connections: {
    openedClient: number;
    openedServer: number;
    failed: number;
    closed: number;
    active: number;
    peakOpenedPerSecond: number;
    retransmits: number;
    durationSumMs: number;
    /** The duration histogram, when the window carried one. */
    durations: { boundsMs: number[]; counts: number[]; sumMs: number } | null;
  };
  health: {
    cpuPercent: number;
    rssBytes: number;
    bpfRunTimeNs: number;
    bpfRunCount: number;
    spoolDepth: number;
    spoolBytes: number;
    flowTableFull: number;
    recordsDropped: number;
  };
  /** The anomaly detectors' inputs; null when the agent does not send them. */
  scan: NormalizedScan | null;
  listening: NormalizedListening | null;
  /** Number of rows this batch adds across the raw tables. */
  records: number;
}

export interface NormalizedScan {
  sources: NormalizedFanout[];
  sweeps: {
    port: number;
    protocol: number;
    destinations: number;
    sources: number;
    topSource: string;
    topSourceDestinations: number;
  }[];
  syns: {
    port: number;
    syns: number;
    attempts: number;
    halfOpen: number;
    refused: number;
    sources: number;
  }[];
  sourcesTotal: number;
  sourcesTruncated: boolean;
  otherSources: NormalizedFanout | null;
  sweepsTruncated: boolean;
  synsTruncated: boolean;
  /** How far back the recent_* figures reach; 0: the agent keeps no memory. */
  recentSeconds: number;
}

export interface NormalizedFanout {
  src: string;
  protocol: number;
  pairs: number;
  destinations: number;
  ports: number;
  refused: number;
  unanswered: number;
  topDestination: string;
  topDestinationPorts: number;
  topDestinationRefused: number;
  topPort: number;
  topPortDestinations: number;
  topPortFailed: number;
  /** The same over NormalizedScan.recentSeconds (the agent's memory); zeros without one. */
  recentTopDestination: string;
  recentTopDestinationFailed: number;
  recentTopPort: number;
  recentTopPortFailed: number;
}

export interface NormalizedListening {
  ports: { port: number; protocol: number; loopbackOnly: boolean }[];
  truncated: boolean;
}

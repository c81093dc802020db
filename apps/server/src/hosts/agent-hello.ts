// What an agent's Hello says, checked field by field (ingest/batch-validation.ts validateHello):
// admission's input. Here, not in ingest, so that ingest depends on hosts and not the reverse.

export interface NormalizedHello {
  agentId: string;
  hostname: string;
  agentVersion: string;
  kernelRelease: string;
  capabilities: { name: string; available: boolean; used: boolean; detail: string }[];
  interfaces: { name: string; ifindex: number; mtu: number; up: boolean; watched: boolean }[];
  labels: Record<string, string>;
  enrollmentToken: string;
  agentCredential: string;
  masking: string;
  startedAt: Date | null;
  configVersion: number;
  /** Oldest sequence the agent's spool still holds; 0 = none. */
  oldestSequence: number;
}

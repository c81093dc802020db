import type { FlowRecord } from '../collector/port';
import { connectionKey } from './server-port';

export interface GuardLimits {
  maxFlowsPerWindow: number;
  cpuBudgetPercent: number;
}

export interface Admitted {
  kept: FlowRecord[];
  droppedOverLimit: number;
  droppedSampling: number;
}

function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Keeps per-flow work within limits. Over the CPU budget, flow records are
 * sampled 1 in N by connection (both directions stay together), N doubling per
 * window over budget and halving when well under; past the per-window flow
 * limit the rest is dropped. Every record left out is counted and reported,
 * and the window says it was sampled. The per-protocol counters stay exact.
 */
export class OverheadGuard {
  private sampleEvery = 1;
  private inWindow = 0;
  private overBudget = 0;

  constructor(private limits: GuardLimits) {}

  setLimits(limits: GuardLimits): void {
    this.limits = limits;
  }

  get sampling(): number {
    return this.sampleEvery;
  }

  admit(records: FlowRecord[]): Admitted {
    let droppedSampling = 0;
    let droppedOverLimit = 0;
    const kept: FlowRecord[] = [];
    for (const r of records) {
      if (this.sampleEvery > 1 && hash32(connectionKey(r)) % this.sampleEvery !== 0) {
        droppedSampling++;
      } else if (this.inWindow >= this.limits.maxFlowsPerWindow) {
        droppedOverLimit++;
      } else {
        this.inWindow++;
        kept.push(r);
      }
    }
    return { kept, droppedOverLimit, droppedSampling };
  }

  /**
   * At each window end, with the agent's CPU use over that window. Sampling
   * starts after two windows in a row over budget, so one busy window (a
   * reconnect replaying the spool, a config reload) does not thin the flows.
   */
  endWindow(cpuPercent: number): void {
    this.inWindow = 0;
    this.overBudget = cpuPercent > this.limits.cpuBudgetPercent ? this.overBudget + 1 : 0;
    if (this.overBudget >= 2) {
      this.sampleEvery = Math.min(this.sampleEvery * 2, 1024);
    } else if (cpuPercent < this.limits.cpuBudgetPercent / 2 && this.sampleEvery > 1) {
      this.sampleEvery = Math.max(1, this.sampleEvery / 2);
    }
  }
}

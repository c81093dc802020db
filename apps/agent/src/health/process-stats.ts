/** The agent's own CPU use (percent of one core) between calls, and its RSS. */
export class ProcessStats {
  private lastCpu = process.cpuUsage();
  private lastAt = process.hrtime.bigint();

  /** Starts measuring afresh (after start-up, which is not steady-state cost). */
  reset(): void {
    this.lastCpu = process.cpuUsage();
    this.lastAt = process.hrtime.bigint();
  }

  sample(): { cpuPercent: number; rssBytes: number } {
    const cpu = process.cpuUsage();
    const at = process.hrtime.bigint();
    const usedUs = cpu.user - this.lastCpu.user + (cpu.system - this.lastCpu.system);
    const wallUs = Number(at - this.lastAt) / 1000;
    this.lastCpu = cpu;
    this.lastAt = at;
    return {
      cpuPercent: wallUs > 0 ? Math.round((usedUs / wallUs) * 10000) / 100 : 0,
      rssBytes: process.memoryUsage.rss(),
    };
  }
}

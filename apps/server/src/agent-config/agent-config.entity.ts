import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The configuration an operator set for one agent; no row = the server defaults (version 1). */
@Entity({ name: 'agent_configs' })
export class AgentConfigEntity {
  @PrimaryColumn({ name: 'agent_id', type: 'uuid' })
  agentId!: string;

  /** Bumped by every change; bigint comes back from pg as text. */
  @Column({ type: 'bigint' })
  version!: string;

  @Column({ name: 'window_seconds', type: 'integer' })
  windowSeconds!: number;

  @Column({ name: 'top_n', type: 'integer' })
  topN!: number;

  @Column({ name: 'port_allowlist', type: 'integer', array: true })
  portAllowlist!: number[];

  /** Wire name, e.g. MASKING_PSEUDONYMIZE. */
  @Column({ type: 'text' })
  masking!: string;

  @Column({ name: 'max_flows_per_window', type: 'integer' })
  maxFlowsPerWindow!: number;

  @Column({ name: 'cpu_budget_percent', type: 'double precision' })
  cpuBudgetPercent!: number;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

import { Column, Entity, PrimaryColumn } from 'typeorm';

export interface HostCapability {
  name: string;
  available: boolean;
  used: boolean;
  detail: string;
}

export interface HostInterface {
  name: string;
  ifindex: number;
  mtu: number;
  up: boolean;
  watched: boolean;
}

/** A monitored host, identified by its agent's stable id. */
@Entity({ name: 'hosts' })
export class HostEntity {
  @PrimaryColumn({ name: 'agent_id', type: 'uuid' })
  agentId!: string;

  @Column({ type: 'text' })
  hostname!: string;

  @Column({ name: 'agent_version', type: 'text', default: '' })
  agentVersion!: string;

  @Column({ name: 'kernel_release', type: 'text', default: '' })
  kernelRelease!: string;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  capabilities!: HostCapability[];

  @Column({ type: 'jsonb', default: () => "'[]'" })
  interfaces!: HostInterface[];

  @Column({ type: 'jsonb', default: () => "'{}'" })
  labels!: Record<string, string>;

  @Column({ type: 'text', default: 'MASKING_UNSPECIFIED' })
  masking!: string;

  @Column({ name: 'config_version', type: 'bigint', default: 0 })
  configVersion!: string;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'credential_hash', type: 'bytea', nullable: true, select: false })
  credentialHash!: Buffer | null;

  @Column({ name: 'enrollment_token_id', type: 'uuid', nullable: true })
  enrollmentTokenId!: string | null;

  @Column({ name: 'enrolled_at', type: 'timestamptz' })
  enrolledAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  /** Set by `agents reset`: the next enrollment token may claim this agent id (once). */
  @Column({ name: 'reenroll_allowed_at', type: 'timestamptz', nullable: true })
  reenrollAllowedAt!: Date | null;

  @Column({ name: 'last_seen_at', type: 'timestamptz', nullable: true })
  lastSeenAt!: Date | null;

  @Column({ name: 'last_batch_at', type: 'timestamptz', nullable: true })
  lastBatchAt!: Date | null;

  /** Highest contiguous batch sequence stored; bigint comes back from pg as text. */
  @Column({ name: 'highest_sequence', type: 'bigint', default: 0 })
  highestSequence!: string;

  /** Batches the agent's spool dropped before they were stored (gaps in sequence_gaps). */
  @Column({ name: 'lost_batches', type: 'bigint', default: 0 })
  lostBatches!: string;

  /** The latest ConfigApplied from the agent (null until it sent one). */
  @Column({ name: 'config_applied_version', type: 'bigint', nullable: true })
  configAppliedVersion!: string | null;

  @Column({ name: 'config_applied_ok', type: 'boolean', nullable: true })
  configAppliedOk!: boolean | null;

  @Column({ name: 'config_applied_error', type: 'text', nullable: true })
  configAppliedError!: string | null;

  @Column({ name: 'config_applied_at', type: 'timestamptz', nullable: true })
  configAppliedAt!: Date | null;

  @Column({ type: 'jsonb', nullable: true })
  health!: Record<string, unknown> | null;
}

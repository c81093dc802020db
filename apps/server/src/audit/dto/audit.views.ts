import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { OUTCOMES } from '../audit-entry';
import type { StoredEntry } from '../audit-entry';

export class AuditEntryView {
  @ApiProperty({ description: 'Decimal string (bigint)' }) sequence!: string;
  @ApiProperty() time!: string;
  @ApiProperty({ nullable: true, type: String }) actor!: string | null;
  @ApiProperty({ nullable: true, type: String }) actorRole!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Source address' }) source!:
    string | null;
  @ApiProperty({ example: 'auth.login' }) action!: string;
  @ApiProperty({ nullable: true, type: String }) target!: string | null;
  @ApiProperty({ enum: OUTCOMES }) outcome!: string;
  @ApiProperty({ nullable: true, type: String }) reason!: string | null;
  @ApiProperty({ nullable: true, type: String }) requestId!: string | null;
  @ApiProperty({ nullable: true, type: Object }) details!: Record<string, unknown> | null;
  @ApiProperty({ enum: ['sm3', 'sha256'] }) hashAlg!: string;
  @ApiProperty({ description: 'Hex' }) prevHash!: string;
  @ApiProperty({ description: 'Hex' }) hash!: string;
}

export class AuditPageView {
  @ApiProperty({ type: [AuditEntryView] }) items!: AuditEntryView[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as `before` for the next page' })
  nextBefore!: string | null;
}

export class AuditVerifyView {
  @ApiProperty() ok!: boolean;
  @ApiProperty() checked!: number;
  @ApiPropertyOptional({ description: 'The first bad sequence' }) brokenAt?: string;
  @ApiPropertyOptional() reason?: string;
  @ApiProperty({ enum: ['incremental', 'full'] }) mode!: string;
  @ApiProperty({ nullable: true, type: String }) from!: string | null;
  @ApiProperty({ nullable: true, type: Object }) head!: { sequence: string; hash: string } | null;
  @ApiProperty() checkpointsChecked!: number;
  @ApiProperty({ nullable: true, type: Object }) lastCheckpoint!: {
    sequence: string;
    time: string;
  } | null;
  @ApiProperty() checkpointsEnabled!: boolean;
}

export class AuditPurgeView {
  @ApiProperty() purged!: string;
  @ApiProperty({ nullable: true, type: String }) firstPurgedSequence!: string | null;
  @ApiProperty({ nullable: true, type: String }) lastPurgedSequence!: string | null;
  @ApiProperty({ nullable: true, type: String }) tombstoneSequence!: string | null;
  @ApiProperty() retentionDays!: number;
}

export function entryView(e: StoredEntry): AuditEntryView {
  let details: Record<string, unknown> | null = null;
  if (e.details !== null) {
    try {
      details = JSON.parse(e.details) as Record<string, unknown>;
    } catch {
      details = { unparsable: e.details };
    }
  }
  return {
    sequence: e.sequence.toString(),
    time: new Date(e.timeMs).toISOString(),
    actor: e.actor,
    actorRole: e.actorRole,
    source: e.source,
    action: e.action,
    target: e.target,
    outcome: e.outcome,
    reason: e.reason,
    requestId: e.requestId,
    details,
    hashAlg: e.hashAlg,
    prevHash: e.prevHash.toString('hex'),
    hash: e.hash.toString('hex'),
  };
}

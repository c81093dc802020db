import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { OUTCOMES, Outcome } from '../audit-entry';

/** Filters shared by search and export. */
export class AuditFilterQuery {
  @ApiPropertyOptional({ description: 'Exact actor (username, `token:<name>`)' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  actor?: string;

  @ApiPropertyOptional({
    description: 'Exact action, or a prefix ending in `.*`',
    example: 'auth.*',
  })
  @IsOptional()
  @Matches(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?$/, {
    message: 'action must be dotted lower-case words, optionally ending in .*',
  })
  @MaxLength(100)
  action?: string;

  @ApiPropertyOptional({ description: 'Exact target (agent id, username, …)' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  target?: string;

  @ApiPropertyOptional({ enum: OUTCOMES })
  @IsOptional()
  @IsIn(OUTCOMES)
  outcome?: Outcome;

  @ApiPropertyOptional({ description: 'From this time (inclusive), ISO 8601' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ description: 'Up to this time (exclusive), ISO 8601' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;
}

export class AuditSearchQuery extends AuditFilterQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit = 100;

  @ApiPropertyOptional({
    description: 'Cursor: entries before this sequence (the previous page’s nextBefore)',
  })
  @IsOptional()
  @Matches(/^[1-9]\d{0,18}$/, { message: 'before must be a sequence number' })
  before?: string;
}

export class AuditVerifyQuery {
  @ApiPropertyOptional({
    enum: ['incremental', 'full'],
    default: 'incremental',
    description: 'incremental: from the newest signed checkpoint; full: the whole chain',
  })
  @IsOptional()
  @IsIn(['incremental', 'full'])
  mode: 'incremental' | 'full' = 'incremental';
}

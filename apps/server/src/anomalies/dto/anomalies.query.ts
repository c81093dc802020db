import { ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsDateString,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { ANOMALY_STATUSES, ANOMALY_TYPES, SEVERITIES } from '../anomaly-types';

const list = (names: readonly string[]) =>
  new RegExp(`^(${names.join('|')})(,(${names.join('|')}))*$`);

export class ListAnomaliesQuery {
  @ApiPropertyOptional({ description: 'Only this host' })
  @IsOptional()
  @IsUUID()
  agentId?: string;

  @ApiPropertyOptional({
    description: 'Hosts with these labels: key=value pairs separated by commas',
  })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  @Matches(/^[A-Za-z0-9_.\-/]{1,63}=[^,=]*(,[A-Za-z0-9_.\-/]{1,63}=[^,=]*)*$/, {
    message: 'labels must be key=value pairs separated by commas',
  })
  labels?: string;

  @ApiPropertyOptional({ description: `Comma-separated: ${ANOMALY_TYPES.join(', ')}` })
  @IsOptional()
  @Matches(list(ANOMALY_TYPES), { message: `type must be among ${ANOMALY_TYPES.join(', ')}` })
  type?: string;

  @ApiPropertyOptional({ description: `Comma-separated: ${SEVERITIES.join(', ')}` })
  @IsOptional()
  @Matches(list(SEVERITIES), { message: `severity must be among ${SEVERITIES.join(', ')}` })
  severity?: string;

  @ApiPropertyOptional({ description: `Comma-separated: ${ANOMALY_STATUSES.join(', ')}` })
  @IsOptional()
  @Matches(list(ANOMALY_STATUSES), {
    message: `status must be among ${ANOMALY_STATUSES.join(', ')}`,
  })
  status?: string;

  @ApiPropertyOptional({ description: 'Seen at or after (ISO 8601)' })
  @IsOptional()
  @IsDateString()
  from?: string;

  @ApiPropertyOptional({ description: 'First seen before (ISO 8601)' })
  @IsOptional()
  @IsDateString()
  to?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit: number = 50;

  @ApiPropertyOptional({ minimum: 0, maximum: 100_000, default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(100_000)
  offset: number = 0;
}

/** Hosts ranked by how many anomalies match the list's filters (the fleet's "worst N"). */
export class AnomalyHostsQuery extends OmitType(ListAnomaliesQuery, [
  'agentId',
  'limit',
  'offset',
] as const) {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: 10 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 10;
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import {
  API_DIRECTIONS,
  API_FAMILIES,
  API_PROTOCOLS,
  ApiDirection,
  ApiFamily,
  ApiProtocol,
} from '../../storage/codes';

export const RESOLUTION_CHOICES = ['auto', 'raw', '1m', '1h'] as const;
export type ResolutionChoice = (typeof RESOLUTION_CHOICES)[number];

const SELECTOR = /^[A-Za-z0-9_.\-/]{1,63}=[^,=]*(,[A-Za-z0-9_.\-/]{1,63}=[^,=]*)*$/;

/** The time range every traffic query reads. */
export class TimeRangeQuery {
  @ApiPropertyOptional({
    description: 'Range start, ISO 8601 (inclusive); default to - 1 h',
    example: '2026-11-26T00:00:00Z',
  })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'from must be an ISO 8601 date-time' })
  from?: string;

  @ApiPropertyOptional({ description: 'Range end, ISO 8601 (exclusive); default now' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'to must be an ISO 8601 date-time' })
  to?: string;
}

/** Which hosts and which time range: one host, a label selector, or (neither) the whole fleet. */
export class TrafficScopeQuery extends TimeRangeQuery {
  @ApiPropertyOptional({ format: 'uuid', description: 'One host; exclusive with selector' })
  @IsOptional()
  @IsUUID('all', { message: 'agentId must be a UUID' })
  agentId?: string;

  @ApiPropertyOptional({
    description: 'Label selector key=value[,key=value]; exclusive with agentId',
    example: 'env=prod',
  })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  @Matches(SELECTOR, { message: 'selector must be key=value pairs separated by commas' })
  selector?: string;

  @ApiPropertyOptional({
    enum: RESOLUTION_CHOICES,
    default: 'auto',
    description:
      'auto: totals read whole hours from the 1 h rollup, whole minutes from 1 min and the rest from raw windows; series pick raw up to 6 h, 1 min up to 7 d, 1 h beyond. A window or bucket belongs to the instant it starts.',
  })
  @IsOptional()
  @IsIn(RESOLUTION_CHOICES)
  resolution: ResolutionChoice = 'auto';
}

export class TrafficFilterQuery extends TrafficScopeQuery {
  @ApiPropertyOptional({ enum: API_PROTOCOLS })
  @IsOptional()
  @IsIn(API_PROTOCOLS)
  protocol?: ApiProtocol;

  @ApiPropertyOptional({ enum: API_DIRECTIONS })
  @IsOptional()
  @IsIn(API_DIRECTIONS)
  direction?: ApiDirection;

  @ApiPropertyOptional({ enum: API_FAMILIES })
  @IsOptional()
  @IsIn(API_FAMILIES)
  family?: ApiFamily;

  @ApiPropertyOptional({ description: 'Interface name' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  iface?: string;
}

export const SERIES_GROUPS = ['none', 'direction', 'protocol', 'family', 'iface'] as const;

export class SeriesQuery extends TrafficFilterQuery {
  @ApiPropertyOptional({ enum: SERIES_GROUPS, default: 'direction' })
  @IsOptional()
  @IsIn(SERIES_GROUPS)
  groupBy: (typeof SERIES_GROUPS)[number] = 'direction';
}

export class TopQuery extends TrafficScopeQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 10 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit = 10;

  @ApiPropertyOptional({ enum: API_PROTOCOLS })
  @IsOptional()
  @IsIn(API_PROTOCOLS)
  protocol?: ApiProtocol;

  @ApiPropertyOptional({ enum: ['bytes', 'packets', 'connections'], default: 'bytes' })
  @IsOptional()
  @IsIn(['bytes', 'packets', 'connections'])
  sort: 'bytes' | 'packets' | 'connections' = 'bytes';
}

export class RatesQuery extends TrafficScopeQuery {
  @ApiPropertyOptional({ description: 'Interface; empty (default) = whole host', default: '' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  iface = '';
}

export const HOST_RANKS = ['bytes', 'packets', 'failed', 'retransmits'] as const;
export type HostRank = (typeof HOST_RANKS)[number];

/** The hosts in scope ranked by one sum over the range, highest first (the fleet's "worst N"). */
export class TopHostsQuery extends TrafficScopeQuery {
  @ApiPropertyOptional({
    enum: HOST_RANKS,
    default: 'bytes',
    description: 'bytes, packets (traffic) or failed connections, retransmits (TCP)',
  })
  @IsOptional()
  @IsIn(HOST_RANKS)
  by: HostRank = 'bytes';

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: 10 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 10;
}

/** How many hosts one GET /traffic/sparklines may name. */
export const SPARKLINES_MAX_HOSTS = 200;

/**
 * Many hosts' series at once (the fleet list's visible rows): agentId repeated, each host's
 * series exactly what GET /traffic/series?agentId=…&groupBy=none answers for it alone.
 */
export class SparklinesQuery extends TimeRangeQuery {
  @ApiProperty({
    type: [String],
    format: 'uuid',
    description: `The hosts, agentId repeated (agentId=…&agentId=…), 1 to ${SPARKLINES_MAX_HOSTS}, each once`,
  })
  // One agentId=… arrives as a string, several as an array.
  @Transform(({ value }: { value: unknown }) =>
    value === undefined ? undefined : Array.isArray(value) ? value : [value],
  )
  @IsArray({ message: 'agentId must be given, once per host' })
  @ArrayNotEmpty({ message: 'agentId must be given, once per host' })
  @ArrayMaxSize(SPARKLINES_MAX_HOSTS, {
    message: `agentId may name at most ${SPARKLINES_MAX_HOSTS} hosts`,
  })
  @ArrayUnique({ message: 'agentId must name each host once' })
  @IsUUID('all', { each: true, message: 'each agentId must be a UUID' })
  agentId!: string[];

  @ApiPropertyOptional({
    enum: RESOLUTION_CHOICES,
    default: 'auto',
    description: 'As GET /traffic/series: auto picks raw up to 6 h, 1 min up to 7 d, 1 h beyond',
  })
  @IsOptional()
  @IsIn(RESOLUTION_CHOICES)
  resolution: ResolutionChoice = 'auto';
}

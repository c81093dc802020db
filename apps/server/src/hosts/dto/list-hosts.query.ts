import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

export const HOST_STATUSES = ['online', 'offline', 'revoked'] as const;
export type HostStatus = (typeof HOST_STATUSES)[number];
/** Deeper pages are refused: OFFSET makes PostgreSQL read and drop every row before it. */
export const MAX_OFFSET = 100_000;
export const HOST_SORTS = ['hostname', 'lastSeen', 'enrolledAt', 'agentVersion', 'kernel'] as const;

export class ListHostsQuery {
  @ApiPropertyOptional({ enum: HOST_STATUSES })
  @IsOptional()
  @IsIn(HOST_STATUSES)
  status?: HostStatus;

  @ApiPropertyOptional({
    description: 'Label selector: key=value pairs separated by commas',
    example: 'env=prod,role=db',
  })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  @Matches(/^[A-Za-z0-9_.\-/]{1,63}=[^,=]*(,[A-Za-z0-9_.\-/]{1,63}=[^,=]*)*$/, {
    message: 'selector must be key=value pairs separated by commas',
  })
  selector?: string;

  @ApiPropertyOptional({ description: 'Substring of the hostname (case-insensitive)' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  search?: string;

  @ApiPropertyOptional({ enum: HOST_SORTS, default: 'hostname' })
  @IsOptional()
  @IsIn(HOST_SORTS)
  sort: (typeof HOST_SORTS)[number] = 'hostname';

  @ApiPropertyOptional({ enum: ['asc', 'desc'], default: 'asc' })
  @IsOptional()
  @IsIn(['asc', 'desc'])
  order: 'asc' | 'desc' = 'asc';

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit = 50;

  @ApiPropertyOptional({ minimum: 0, maximum: MAX_OFFSET, default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(MAX_OFFSET)
  offset = 0;
}

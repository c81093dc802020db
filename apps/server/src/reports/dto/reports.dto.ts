import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
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
import { REPORT_FORMATS, REPORT_LANGS, ReportFormat, ReportLang } from '../report-document';

const SELECTOR = /^[A-Za-z0-9_.\-/]{1,63}=[^,=]*(,[A-Za-z0-9_.\-/]{1,63}=[^,=]*)*$/;

/** One report: a host, a label selector or (neither) the fleet, over [from, to). */
export class ReportQuery {
  @ApiPropertyOptional({ description: 'Range start, ISO 8601 (inclusive); default to - 24 h' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'from must be an ISO 8601 date-time' })
  from?: string;

  @ApiPropertyOptional({ description: 'Range end, ISO 8601 (exclusive); default now' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'to must be an ISO 8601 date-time' })
  to?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'One host; exclusive with labels' })
  @IsOptional()
  @IsUUID('all', { message: 'agentId must be a UUID' })
  agentId?: string;

  @ApiPropertyOptional({ description: 'Label selector key=value[,key=value]', example: 'env=prod' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  @Matches(SELECTOR, { message: 'labels must be key=value pairs separated by commas' })
  labels?: string;

  @ApiPropertyOptional({ enum: REPORT_FORMATS, default: 'json' })
  @IsOptional()
  @IsIn(REPORT_FORMATS)
  format: ReportFormat = 'json';

  @ApiPropertyOptional({ enum: REPORT_LANGS, default: 'zh-CN' })
  @IsOptional()
  @IsIn(REPORT_LANGS)
  lang: ReportLang = 'zh-CN';

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 10, description: 'Top ports/talkers' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  top = 10;
}

export class StoredReportsQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit = 50;

  @ApiPropertyOptional({ minimum: 0, default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  offset = 0;
}

/** A daily report schedule (system administrator). */
export class ReportScheduleDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'One host; exclusive with labels' })
  @IsOptional()
  @IsUUID('all', { message: 'agentId must be a UUID' })
  agentId?: string;

  @ApiPropertyOptional({ description: 'Label selector; neither agentId nor labels: the fleet' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  @Matches(SELECTOR, { message: 'labels must be key=value pairs separated by commas' })
  labels?: string;

  @ApiProperty({ enum: REPORT_FORMATS, isArray: true, example: ['pdf', 'csv'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(3)
  @IsIn(REPORT_FORMATS, { each: true })
  formats!: ReportFormat[];

  @ApiPropertyOptional({ enum: REPORT_LANGS, default: 'zh-CN' })
  @IsOptional()
  @IsIn(REPORT_LANGS)
  lang: ReportLang = 'zh-CN';

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: 23,
    default: 1,
    description: 'Hour of the day (in utcOffsetMinutes) after which the previous day is reported',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(23)
  hour = 1;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: -720,
    maximum: 840,
    default: 0,
    description: 'Where days start, minutes east of UTC (480: China Standard Time)',
  })
  @IsOptional()
  @IsInt()
  @Min(-720)
  @Max(840)
  utcOffsetMinutes = 0;

  @ApiPropertyOptional({ type: Boolean, default: true })
  @IsOptional()
  @IsBoolean()
  enabled = true;
}

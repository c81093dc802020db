import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsNotEmpty, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export class AnomalyNoteDto {
  @ApiPropertyOptional({ description: 'Why (kept in the audit trail)' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  note?: string;
}

export class SuppressAnomalyDto {
  @ApiProperty({ description: 'Why it is suppressed (kept in the audit trail)' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(1000)
  reason!: string;

  @ApiProperty({
    description: 'For how long, in seconds (at most 30 days)',
    minimum: 60,
    maximum: 2_592_000,
  })
  @Type(() => Number)
  @IsInt()
  @Min(60)
  @Max(2_592_000)
  durationSeconds!: number;
}

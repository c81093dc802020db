import { ApiProperty } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsNumber,
  Max,
  Min,
} from 'class-validator';
import { API_MASKING, ApiMasking } from '../masking';

/** The whole configuration of one agent (PUT replaces it; every field is required). */
export class UpdateAgentConfigDto {
  @ApiProperty({ minimum: 1, maximum: 3600, description: 'Aggregation window, seconds' })
  @IsInt()
  @Min(1)
  @Max(3600)
  windowSeconds!: number;

  @ApiProperty({ minimum: 1, maximum: 10000, description: 'Ports and talkers kept per window' })
  @IsInt()
  @Min(1)
  @Max(10_000)
  topN!: number;

  @ApiProperty({
    type: [Number],
    description: 'Server ports that are expected; connections to others are flagged abnormal',
    example: [22, 443, 5432],
  })
  @IsArray()
  @ArrayMaxSize(1024)
  @ArrayUnique()
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(65535, { each: true })
  portAllowlist!: number[];

  @ApiProperty({
    enum: API_MASKING,
    description: 'Address masking; unspecified leaves the agent its local setting',
  })
  @IsIn(API_MASKING)
  masking!: ApiMasking;

  @ApiProperty({ minimum: 0, maximum: 10_000_000, description: '0 = the agent default' })
  @IsInt()
  @Min(0)
  @Max(10_000_000)
  maxFlowsPerWindow!: number;

  @ApiProperty({
    minimum: 0,
    maximum: 100,
    description: 'Agent CPU budget, %; 0 = the agent default',
  })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(100)
  cpuBudgetPercent!: number;
}

/** The masking policy of one agent (the security administrator's). */
export class UpdateMaskingDto {
  @ApiProperty({
    enum: API_MASKING,
    description: 'Address masking; unspecified leaves the agent its local setting',
  })
  @IsIn(API_MASKING)
  masking!: ApiMasking;
}

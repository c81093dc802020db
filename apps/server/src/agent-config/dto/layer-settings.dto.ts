import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  Max,
  Min,
  ValidateIf,
} from 'class-validator';
import { API_MASKING, ApiMasking } from '../masking';

/**
 * The fields of a fleet or label layer (PUT replaces them): each one omitted or null is
 * inherited from the layer below. Limits as in UpdateAgentConfigDto.
 */
export class LayerSettingsDto {
  @ApiPropertyOptional({ type: Number, nullable: true, minimum: 1, maximum: 3600 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(3600)
  windowSeconds?: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, minimum: 1, maximum: 10000 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10_000)
  topN?: number | null;

  @ApiPropertyOptional({ type: [Number], nullable: true, example: [22, 443, 5432] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1024)
  @ArrayUnique()
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(65535, { each: true })
  portAllowlist?: number[] | null;

  @ApiPropertyOptional({
    enum: API_MASKING,
    nullable: true,
    description:
      "The security administrator's (PUT .../masking): omit it, or send the layer's current one",
  })
  @IsOptional()
  @IsIn(API_MASKING)
  masking?: ApiMasking | null;

  @ApiPropertyOptional({ type: Number, nullable: true, minimum: 0, maximum: 10_000_000 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(10_000_000)
  maxFlowsPerWindow?: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, minimum: 0, maximum: 100 })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(100)
  cpuBudgetPercent?: number | null;
}

export class LabelLayerDto extends LayerSettingsDto {
  @ApiProperty({
    minimum: 0,
    maximum: 1000,
    description:
      'Where two label layers match one host, the higher priority wins; layers on different ' +
      'keys may not share one (409)',
  })
  @IsInt()
  @Min(0)
  @Max(1000)
  priority!: number;
}

/** A layer's masking policy (the security administrator's); null = inherited. */
export class LayerMaskingDto {
  @ApiProperty({ enum: API_MASKING, nullable: true })
  @ValidateIf((o: LayerMaskingDto) => o.masking !== null)
  @IsIn(API_MASKING)
  masking!: ApiMasking | null;
}

export class DriftQuery {
  @ApiPropertyOptional({ enum: ['true', 'false'], description: 'true: only hosts out of sync' })
  @IsOptional()
  @IsIn(['true', 'false'])
  outOfSync?: 'true' | 'false';

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 200 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit = 200;

  @ApiPropertyOptional({ minimum: 0, maximum: 100_000, default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(100_000)
  offset = 0;
}

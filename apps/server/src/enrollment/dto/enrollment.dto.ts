import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';

/** A new enrollment token, as `tidewatch-server enroll create` makes one. */
export class CreateEnrollmentTokenDto {
  @ApiProperty({ description: 'What the token is for, e.g. "rollout-dc1"' })
  @IsString()
  @Length(1, 100)
  name!: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 8760, default: 24 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(8760)
  expiresInHours?: number;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    description: 'How many agents may enroll with it (default: unlimited until expiry)',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  maxUses?: number;
}

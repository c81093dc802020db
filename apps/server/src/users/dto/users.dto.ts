import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsString, Length } from 'class-validator';
import { ROLES } from '../../auth/roles';
import type { Role } from '../../auth/roles';

export class CreateUserDto {
  @ApiProperty() @IsString() @Length(1, 64) username!: string;

  @ApiProperty({ enum: ROLES }) @IsIn(ROLES) role!: Role;

  @ApiPropertyOptional({
    description:
      'Without it a password is generated, shown once, and must be changed at first sign-in',
  })
  @IsOptional()
  @IsString()
  @Length(1, 1024)
  password?: string;
}

export class UpdateUserDto {
  @ApiPropertyOptional({ enum: ROLES }) @IsOptional() @IsIn(ROLES) role?: Role;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() disabled?: boolean;
}

export class ResetUserDto {
  @ApiPropertyOptional({ description: 'Also remove the TOTP enrolment (a lost phone)' })
  @IsOptional()
  @IsBoolean()
  totp?: boolean;
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { ROLES } from '../roles';
import type { Role } from '../roles';
import { API_TOKEN_ROLES } from '../api-tokens.service';

export class LoginDto {
  @ApiProperty()
  @IsString()
  @Length(1, 64)
  username!: string;

  @ApiProperty()
  @IsString()
  @Length(1, 1024)
  password!: string;

  @ApiPropertyOptional({
    description: 'The current 6-digit TOTP code (required for AUTH_TOTP_ROLES)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(16)
  totp?: string;
}

export class LoginUserView {
  @ApiProperty() username!: string;
  @ApiProperty({ enum: ROLES }) role!: Role;
}

export class LoginView {
  @ApiProperty({
    description: 'Session token: `Authorization: Bearer <accessToken>` (also set as a cookie)',
  })
  accessToken!: string;
  @ApiProperty({
    description: 'The session ends at this time at the latest (idle timeout earlier)',
  })
  expiresAt!: string;
  @ApiProperty({ type: LoginUserView }) user!: LoginUserView;
  @ApiProperty({ description: 'Only the password change is allowed until it is done' })
  mustChangePassword!: boolean;
}

export class MeView {
  @ApiProperty() username!: string;
  @ApiProperty({ enum: ROLES }) role!: Role;
  @ApiProperty({ enum: ['session', 'token'] }) via!: 'session' | 'token';
  @ApiProperty() expiresAt!: string;
  @ApiProperty() mustChangePassword!: boolean;
  @ApiProperty({ description: 'This role signs in with TOTP' }) totpRequired!: boolean;
  @ApiProperty() totpEnrolled!: boolean;
}

export class ChangePasswordDto {
  @ApiProperty() @IsString() @Length(1, 1024) currentPassword!: string;
  @ApiProperty() @IsString() @Length(1, 1024) newPassword!: string;
}

export class TotpEnrolView {
  @ApiProperty({ description: 'otpauth://totp/… for an authenticator app; shown once' })
  otpauthUri!: string;
  @ApiProperty({ description: 'The same secret in base32, for manual entry' }) secret!: string;
}

export class TotpConfirmDto {
  @ApiProperty() @IsString() @Matches(/^\d{6}$/) code!: string;
}

export class CreateApiTokenDto {
  @ApiProperty({ description: 'What the token is for, e.g. "compliance-reports"' })
  @IsString()
  @Length(1, 100)
  name!: string;

  @ApiProperty({ enum: API_TOKEN_ROLES })
  @IsIn(API_TOKEN_ROLES)
  role!: Role;

  @ApiPropertyOptional({ description: 'Lifetime in days (default AUTH_API_TOKEN_DAYS, 90)' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(730)
  expiresInDays?: number;
}

import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { ROLES } from '../../roles';
import type { Role } from '../../roles';
import { POLICY_BOUNDS as B } from '../sign-in-policy';

/** The whole sign-in policy (PUT replaces it; every field required). */
export class SignInPolicyDto {
  @ApiProperty({ minimum: B.passwordMinLength.min, maximum: B.passwordMinLength.max })
  @IsInt()
  @Min(B.passwordMinLength.min)
  @Max(B.passwordMinLength.max)
  passwordMinLength!: number;

  @ApiProperty({
    description: 'Previous passwords a new one may not repeat',
    minimum: B.passwordHistory.min,
    maximum: B.passwordHistory.max,
  })
  @IsInt()
  @Min(B.passwordHistory.min)
  @Max(B.passwordHistory.max)
  passwordHistory!: number;

  @ApiProperty({
    description: 'Days until a password must be changed; 0 = never',
    minimum: B.passwordMaxAgeDays.min,
    maximum: B.passwordMaxAgeDays.max,
  })
  @IsInt()
  @Min(B.passwordMaxAgeDays.min)
  @Max(B.passwordMaxAgeDays.max)
  passwordMaxAgeDays!: number;

  @ApiProperty({
    description: 'Failed sign-ins within the window that lock the account',
    minimum: B.lockoutThreshold.min,
    maximum: B.lockoutThreshold.max,
  })
  @IsInt()
  @Min(B.lockoutThreshold.min)
  @Max(B.lockoutThreshold.max)
  lockoutThreshold!: number;

  @ApiProperty({ minimum: B.lockoutWindowMinutes.min, maximum: B.lockoutWindowMinutes.max })
  @IsInt()
  @Min(B.lockoutWindowMinutes.min)
  @Max(B.lockoutWindowMinutes.max)
  lockoutWindowMinutes!: number;

  @ApiProperty({ minimum: B.lockoutMinutes.min, maximum: B.lockoutMinutes.max })
  @IsInt()
  @Min(B.lockoutMinutes.min)
  @Max(B.lockoutMinutes.max)
  lockoutMinutes!: number;

  @ApiProperty({
    enum: ROLES,
    isArray: true,
    description: 'Roles that sign in with TOTP; must include sysadmin, secadmin and auditadmin',
  })
  @IsArray()
  @ArrayUnique()
  @IsIn(ROLES, { each: true })
  totpRoles!: Role[];
}

export class SignInPolicyView extends SignInPolicyDto {
  @ApiProperty({ enum: ['environment', 'stored'] }) source!: 'environment' | 'stored';
  @ApiProperty({ nullable: true, type: String }) updatedAt!: string | null;
  @ApiProperty({ nullable: true, type: String }) updatedBy!: string | null;
}

export class GroupRoleDto {
  @ApiProperty({ description: 'Group DN, e.g. cn=tw-ops,ou=groups,dc=bank,dc=example' })
  @IsString()
  @Length(3, 1024)
  @Matches(/=/, { message: 'group must be a DN' })
  group!: string;

  @ApiProperty({ enum: ROLES }) @IsIn(ROLES) role!: Role;
}

export class GroupRolesDto {
  @ApiProperty({ type: [GroupRoleDto] })
  @IsArray()
  @ArrayMaxSize(500)
  @ValidateNested({ each: true })
  @Type(() => GroupRoleDto)
  mappings!: GroupRoleDto[];
}

export class GroupRolesView extends GroupRolesDto {
  @ApiProperty({ description: 'LDAP_URL is set' }) ldapEnabled!: boolean;
  @ApiProperty({ enum: ['environment', 'stored'] }) source!: 'environment' | 'stored';
  @ApiProperty({ nullable: true, type: String }) updatedAt!: string | null;
  @ApiProperty({ nullable: true, type: String }) updatedBy!: string | null;
}

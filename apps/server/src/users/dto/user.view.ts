import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ROLES } from '../../auth/roles';
import type { Role } from '../../auth/roles';

const nullableDate = { type: String, format: 'date-time', nullable: true } as const;

/** A user as the API answers it (never a secret); times in ISO 8601. */
export class UserView {
  @ApiProperty() id!: string;
  @ApiProperty() username!: string;
  @ApiProperty({ enum: ROLES }) role!: Role;
  @ApiProperty({ enum: ['local', 'ldap'] }) source!: 'local' | 'ldap';
  @ApiProperty() mustChangePassword!: boolean;
  @ApiProperty(nullableDate) passwordChangedAt!: string | null;
  @ApiProperty(nullableDate) disabledAt!: string | null;
  @ApiProperty(nullableDate) lockedUntil!: string | null;
  @ApiProperty() totpEnrolled!: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, nullable: true }) createdBy!: string | null;
  @ApiProperty(nullableDate) lastLoginAt!: string | null;
}

export class UserListView {
  @ApiProperty({ type: [UserView] }) items!: UserView[];
}

export class CreatedUserView {
  @ApiProperty({ type: UserView }) user!: UserView;
  @ApiPropertyOptional({ description: 'The generated password, shown this once' })
  password?: string;
}

export class ResetUserView {
  @ApiProperty({ type: UserView }) user!: UserView;
  @ApiProperty({ description: 'The new generated password, shown this once' }) password!: string;
}

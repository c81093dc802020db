import { ApiProperty } from '@nestjs/swagger';

const nullableDate = { type: String, format: 'date-time', nullable: true } as const;

/** An enrollment token as listed: never the token, which is shown once at creation. */
export class EnrollmentTokenView {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty(nullableDate) expiresAt!: string | null;
  @ApiProperty({ type: Number, nullable: true }) maxUses!: number | null;
  @ApiProperty() uses!: number;
  @ApiProperty(nullableDate) revokedAt!: string | null;
}

export class EnrollmentTokenListView {
  @ApiProperty({ type: [EnrollmentTokenView] }) items!: EnrollmentTokenView[];
}

export class CreatedEnrollmentTokenView {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty(nullableDate) expiresAt!: string | null;
  @ApiProperty({ type: Number, nullable: true }) maxUses!: number | null;
  @ApiProperty({ description: 'The token, shown this once; only its hash is kept' })
  token!: string;
}

export class RevokedEnrollmentTokenView {
  @ApiProperty() id!: string;
  @ApiProperty({ description: 'Tokens this call revoked' }) revoked!: number;
}

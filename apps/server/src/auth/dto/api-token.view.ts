import { ApiProperty } from '@nestjs/swagger';
import { ROLES } from '../roles';
import type { Role } from '../roles';

const nullableDate = { type: String, format: 'date-time', nullable: true } as const;

/** An API token as listed: never the token, which is shown once at creation. */
export class ApiTokenListItem {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ROLES }) role!: Role;
  @ApiProperty({ type: String, nullable: true }) createdBy!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) expiresAt!: string;
  @ApiProperty(nullableDate) revokedAt!: string | null;
  @ApiProperty(nullableDate) lastUsedAt!: string | null;
  @ApiProperty({ type: String, nullable: true }) lastUsedFrom!: string | null;
}

export class ApiTokenListView {
  @ApiProperty({ type: [ApiTokenListItem] }) items!: ApiTokenListItem[];
}

export class CreatedApiTokenView extends ApiTokenListItem {
  @ApiProperty({ description: 'The token, shown this once; only its hash is kept' })
  token!: string;
}

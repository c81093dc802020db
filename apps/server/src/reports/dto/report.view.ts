import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { REPORT_FORMATS, REPORT_LANGS } from '../report-document';
import type { ReportFormat, ReportLang } from '../report-document';

/** A kept report's record (its bytes are at stored/:id). */
export class StoredReportView {
  @ApiProperty() id!: string;
  @ApiProperty({ type: String, nullable: true, description: 'The schedule that made it' })
  scheduleName!: string | null;
  @ApiProperty({ format: 'date-time' }) from!: string;
  @ApiProperty({ format: 'date-time' }) to!: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'agentId or labels the report covers, and how many hosts',
  })
  scope!: Record<string, unknown>;
  @ApiProperty({ enum: REPORT_FORMATS }) format!: ReportFormat;
  @ApiProperty({ enum: REPORT_LANGS }) lang!: ReportLang;
  @ApiProperty() contentType!: string;
  @ApiProperty() bytes!: number;
  @ApiProperty({ example: 'SM3' }) digestAlg!: string;
  @ApiProperty() digest!: string;
  @ApiProperty({ type: String, nullable: true }) generatedBy!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class StoredReportListView {
  @ApiProperty({ type: [StoredReportView] }) items!: StoredReportView[];
  @ApiProperty() total!: number;
}

/** A daily report schedule. */
export class ReportScheduleView {
  @ApiProperty() name!: string;
  @ApiProperty({ type: String, nullable: true }) agentId!: string | null;
  @ApiProperty({ type: String, nullable: true }) labels!: string | null;
  @ApiProperty({ enum: REPORT_FORMATS, isArray: true }) formats!: ReportFormat[];
  @ApiProperty({ enum: REPORT_LANGS }) lang!: ReportLang;
  @ApiProperty({
    description: "The previous day's report is made once the day is this many hours old",
  })
  hour!: number;
  @ApiProperty({ description: "The day's boundaries in this offset from UTC (480: China)" })
  utcOffsetMinutes!: number;
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ type: String, nullable: true }) updatedBy!: string | null;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class ReportScheduleListView {
  @ApiProperty({ type: [ReportScheduleView] }) items!: ReportScheduleView[];
}

/** A kept report re-hashed and compared with the digest the audit trail recorded. */
export class ReportVerificationView {
  @ApiProperty() id!: string;
  @ApiProperty() ok!: boolean;
  @ApiProperty({ example: 'SM3' }) digestAlg!: string;
  @ApiProperty({ description: 'Digest of the bytes stored now' }) digest!: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Digest recorded at generation (null: no audit entry found)',
  })
  auditedDigest!: string | null;
  @ApiProperty({ type: String, nullable: true }) auditSequence!: string | null;
  @ApiPropertyOptional({ description: 'Why not ok' }) reason?: string;
}

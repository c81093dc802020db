import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class AnomalyView {
  @ApiProperty() id!: string;
  @ApiProperty() agentId!: string;
  @ApiPropertyOptional({ type: String, nullable: true }) hostname!: string | null;
  @ApiProperty() type!: string;
  @ApiProperty() severity!: string;
  @ApiProperty() status!: string;
  @ApiProperty() summary!: string;
  @ApiProperty() firstSeen!: string;
  @ApiProperty() lastSeen!: string;
  @ApiProperty({ description: 'Windows the incident was seen in' }) windows!: number;
  @ApiProperty({
    description: 'figures (latest window), first, peak, threshold, windows (start, end, sequence)',
    type: 'object',
    additionalProperties: true,
  })
  evidence!: Record<string, unknown>;
  @ApiPropertyOptional({ type: String, nullable: true }) acknowledgedBy!: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) acknowledgedAt!: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) resolvedBy!: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) resolvedAt!: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) suppressedBy!: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) suppressedUntil!: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) suppressReason!: string | null;
}

export class AnomalyListView {
  @ApiProperty({ type: [AnomalyView] }) items!: AnomalyView[];
  @ApiProperty({ description: 'Anomalies matching the filters' }) total!: number;
  @ApiProperty() limit!: number;
  @ApiProperty() offset!: number;
}

export class AnomalyHostCount {
  @ApiProperty() agentId!: string;
  @ApiProperty({ type: String, nullable: true }) hostname!: string | null;
  @ApiProperty({ description: 'Anomalies of this host matching the filters' }) anomalies!: number;
}

export class AnomalyHostsView {
  @ApiProperty({ type: [AnomalyHostCount], description: 'Most anomalies first' })
  items!: AnomalyHostCount[];
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { API_DIRECTIONS, API_PROTOCOLS } from '../../storage/codes';

// Counters (packets, bytes, connections…) are decimal strings: exact 64-bit
// sums, which JSON numbers cannot carry beyond 2^53.

export class ScopeView {
  @ApiPropertyOptional({ format: 'uuid' }) agentId?: string;
  @ApiPropertyOptional() selector?: string;
  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'Hosts in scope; null for the whole fleet',
  })
  hosts!: number | null;
}

export class RangeView {
  @ApiProperty({ format: 'date-time' }) from!: string;
  @ApiProperty({ format: 'date-time' }) to!: string;
  @ApiProperty({ type: ScopeView }) scope!: ScopeView;
  @ApiProperty({ type: [String], enum: ['raw', '1m', '1h'], description: 'Tables read' })
  resolutions!: string[];
}

export class SummaryItem {
  @ApiProperty({ enum: API_PROTOCOLS }) protocol!: string;
  @ApiProperty({ enum: API_DIRECTIONS }) direction!: string;
  @ApiProperty({ example: '12345' }) packets!: string;
  @ApiProperty({ example: '9876543' }) bytes!: string;
}

export class Totals {
  @ApiProperty() packets!: string;
  @ApiProperty() bytes!: string;
}

export class SummaryView extends RangeView {
  @ApiProperty({ type: [SummaryItem] }) items!: SummaryItem[];
  @ApiProperty({ type: Totals }) total!: Totals;
}

export class SeriesPoint {
  @ApiProperty({ format: 'date-time', description: 'Window or bucket start' }) t!: string;
  @ApiProperty({ description: 'Group value (direction, protocol, family, iface) or "all"' })
  key!: string;
  @ApiProperty() packets!: string;
  @ApiProperty() bytes!: string;
}

export class SeriesView extends RangeView {
  @ApiProperty({ enum: ['raw', '1m', '1h'] }) resolution!: string;
  @ApiProperty({ nullable: true, type: Number, description: 'null for raw windows' }) stepSeconds!:
    number | null;
  @ApiProperty() groupBy!: string;
  @ApiProperty({ type: [SeriesPoint] }) points!: SeriesPoint[];
}

export class RateItem {
  @ApiProperty({ enum: ['ingress', 'egress'] }) direction!: string;
  @ApiProperty() bytes!: string;
  @ApiProperty() packets!: string;
  @ApiProperty() avgBitsPerSecond!: number;
  @ApiProperty() avgPacketsPerSecond!: number;
  @ApiProperty({ description: 'Highest per-second peak any host in scope reported' })
  peakBitsPerSecond!: number;
  @ApiProperty() peakPacketsPerSecond!: number;
}

export class RatesView extends RangeView {
  @ApiProperty() seconds!: number;
  @ApiProperty() iface!: string;
  @ApiProperty({ type: [RateItem] }) items!: RateItem[];
}

export class PortItem {
  @ApiProperty() port!: number;
  @ApiProperty({ enum: API_PROTOCOLS }) protocol!: string;
  @ApiProperty() packets!: string;
  @ApiProperty() bytes!: string;
  @ApiProperty() connections!: string;
  @ApiProperty({ description: 'Outside the agent allowlist in at least one window' })
  abnormal!: boolean;
}

export class PortsView extends RangeView {
  @ApiProperty({ type: [PortItem] }) items!: PortItem[];
}

export class TalkerItem {
  @ApiProperty() src!: string;
  @ApiProperty() dst!: string;
  @ApiProperty({ enum: API_PROTOCOLS }) protocol!: string;
  @ApiProperty() packets!: string;
  @ApiProperty() bytes!: string;
}

export class TalkersView extends RangeView {
  @ApiProperty({ type: [TalkerItem] }) items!: TalkerItem[];
}

export class DurationHistogramView {
  @ApiProperty({
    type: [Number],
    description: 'Upper bounds of the buckets, ms, as the agents sent them',
  })
  boundsMs!: number[];
  @ApiProperty({
    type: [String],
    description:
      'Per-bucket counts summed exactly over every window with these bounds; one more than boundsMs (the last bucket has no bound)',
  })
  counts!: string[];
  @ApiProperty({ description: 'Windows that carried a histogram with these bounds' })
  windows!: string;
  @ApiProperty({ description: 'Sum of the durations, ms' }) sumMs!: number;
}

export class ConnectionsView extends RangeView {
  @ApiProperty() windows!: string;
  @ApiProperty() openedClient!: string;
  @ApiProperty() openedServer!: string;
  @ApiProperty() failed!: string;
  @ApiProperty() closed!: string;
  @ApiProperty() retransmits!: string;
  @ApiProperty() openedPerSecond!: number;
  @ApiProperty() peakOpenedPerSecond!: number;
  @ApiProperty() activeMax!: string;
  @ApiProperty() activeAvgPerWindow!: number;
  @ApiProperty() meanDurationMs!: number;
  @ApiProperty({
    type: [DurationHistogramView],
    description:
      'Connection-duration histograms, one per distinct set of bucket bounds (histograms are only added when their bounds are identical)',
  })
  durationHistograms!: DurationHistogramView[];
}

export class DropItem {
  @ApiProperty() reason!: string;
  @ApiProperty() count!: string;
}

export class AgentDrops {
  @ApiProperty() flowTableFull!: string;
  @ApiProperty() recordsDropped!: string;
}

export class DropsView extends RangeView {
  @ApiProperty({ type: [DropItem] }) items!: DropItem[];
  @ApiProperty({ type: AgentDrops }) agent!: AgentDrops;
}

export class HostRankItem {
  @ApiProperty({ format: 'uuid' }) agentId!: string;
  @ApiProperty({ example: '9876543', description: 'The sum ranked by, exact' }) value!: string;
}

export class HostRanksView extends RangeView {
  @ApiProperty({ enum: ['bytes', 'packets', 'failed', 'retransmits'] }) by!: string;
  @ApiProperty({
    type: [HostRankItem],
    description: 'Highest first; hosts whose sum is 0 left out',
  })
  items!: HostRankItem[];
}

export class SparklineItem {
  @ApiProperty({ format: 'uuid' }) agentId!: string;
  @ApiProperty({
    description:
      'Batches the agent dropped from its spool before delivering them, as GET /hosts/{agentId} says (lostBatches)',
  })
  lostBatches!: number;
  @ApiProperty({
    type: [SeriesPoint],
    description:
      'Exactly the points GET /traffic/series?agentId=…&groupBy=none answers (key "all")',
  })
  points!: SeriesPoint[];
}

/** Many hosts' series over one range: one item per host asked for, in the order asked. */
export class SparklinesView {
  @ApiProperty({ format: 'date-time' }) from!: string;
  @ApiProperty({ format: 'date-time' }) to!: string;
  @ApiProperty({ enum: ['raw', '1m', '1h'] }) resolution!: string;
  @ApiProperty({ nullable: true, type: Number, description: 'null for raw windows' }) stepSeconds!:
    number | null;
  @ApiProperty({ type: [SparklineItem] }) items!: SparklineItem[];
}

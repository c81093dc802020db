import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { API_MASKING, ApiMasking } from '../masking';
import { LayerView } from './layer.view';

/** Where each merged field came from: `default`, `fleet`, `label:KEY=VALUE` or `host`. */
export class ConfigOriginView {
  @ApiProperty({ example: 'label:zone=a' }) windowSeconds!: string;
  @ApiProperty() topN!: string;
  @ApiProperty() portAllowlist!: string;
  @ApiProperty() masking!: string;
  @ApiProperty() maxFlowsPerWindow!: string;
  @ApiProperty() cpuBudgetPercent!: string;
}

export class AgentConfigView {
  @ApiProperty({
    description: 'Bumped by every change of the merged configuration; 1 = the server defaults',
  })
  version!: number;
  @ApiProperty({ enum: ['default', 'operator'] }) source!: 'default' | 'operator';
  @ApiProperty() windowSeconds!: number;
  @ApiProperty() topN!: number;
  @ApiProperty({ type: [Number] }) portAllowlist!: number[];
  @ApiProperty({ enum: API_MASKING }) masking!: ApiMasking;
  @ApiProperty() maxFlowsPerWindow!: number;
  @ApiProperty() cpuBudgetPercent!: number;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) updatedAt!:
    string | null;
  @ApiProperty({ type: ConfigOriginView, description: 'The layer each field comes from' })
  origin!: ConfigOriginView;
}

export class ConfigAppliedView {
  @ApiProperty({ description: 'Config version the agent reported on' }) version!: number;
  @ApiProperty() ok!: boolean;
  @ApiProperty({ description: 'Why the agent refused it; empty when ok' }) error!: string;
  @ApiProperty({ type: String, format: 'date-time' }) at!: string;
}

export class AgentConfigStateView {
  @ApiProperty({ type: AgentConfigView, description: 'What the server sends the agent' })
  desired!: AgentConfigView;
  @ApiPropertyOptional({
    type: ConfigAppliedView,
    nullable: true,
    description: 'Latest ConfigApplied',
  })
  applied!: ConfigAppliedView | null;
  @ApiProperty({ description: 'Version the agent runs (Hello, then successful ConfigApplied)' })
  runningVersion!: number;
  @ApiPropertyOptional({
    type: () => LayerView,
    nullable: true,
    description: "The host's own override layer (what PUT .../config and .../masking set)",
  })
  override!: LayerView | null;
}

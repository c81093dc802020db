import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { API_MASKING, ApiMasking } from '../masking';

export class AgentConfigView {
  @ApiProperty({ description: 'Bumped by every change; 1 = the server defaults' }) version!: number;
  @ApiProperty({ enum: ['default', 'operator'] }) source!: 'default' | 'operator';
  @ApiProperty() windowSeconds!: number;
  @ApiProperty() topN!: number;
  @ApiProperty({ type: [Number] }) portAllowlist!: number[];
  @ApiProperty({ enum: API_MASKING }) masking!: ApiMasking;
  @ApiProperty() maxFlowsPerWindow!: number;
  @ApiProperty() cpuBudgetPercent!: number;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) updatedAt!:
    string | null;
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
}

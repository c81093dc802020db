import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ConfigAppliedView } from './agent-config.view';

/** One host: the configuration version it should run against the one it runs. */
export class DriftItemView {
  @ApiProperty({ format: 'uuid' }) agentId!: string;
  @ApiProperty() hostname!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } })
  labels!: Record<string, string>;
  @ApiProperty({ description: 'The version the server wants the agent to run' })
  desiredVersion!: number;
  @ApiProperty({ description: 'The version the agent runs (Hello, then successful ConfigApplied)' })
  runningVersion!: number;
  @ApiPropertyOptional({
    type: ConfigAppliedView,
    nullable: true,
    description: 'The latest ConfigApplied',
  })
  lastApplied!: ConfigAppliedView | null;
  @ApiProperty({ description: 'runningVersion = desiredVersion' }) inSync!: boolean;
}

export class DriftPageView {
  @ApiProperty({ type: [DriftItemView] }) items!: DriftItemView[];
  @ApiProperty({ description: 'Hosts matching the filter' }) total!: number;
  @ApiProperty({ description: 'Hosts out of sync, whatever the filter' }) outOfSync!: number;
  @ApiProperty() limit!: number;
  @ApiProperty() offset!: number;
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { AgentConfigView, ConfigAppliedView } from '../../agent-config/dto/agent-config.view';
import { HOST_STATUSES, HostStatus } from './list-hosts.query';

export class HostCapabilityView {
  @ApiProperty() name!: string;
  @ApiProperty() available!: boolean;
  @ApiProperty() used!: boolean;
  @ApiProperty() detail!: string;
}

export class HostInterfaceView {
  @ApiProperty() name!: string;
  @ApiProperty() ifindex!: number;
  @ApiProperty() mtu!: number;
  @ApiProperty() up!: boolean;
  @ApiProperty() watched!: boolean;
}

export class HostView {
  @ApiProperty({ format: 'uuid' }) agentId!: string;
  @ApiProperty() hostname!: string;
  @ApiProperty({ enum: HOST_STATUSES }) status!: HostStatus;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) labels!: Record<
    string,
    string
  >;
  @ApiProperty() kernelRelease!: string;
  @ApiProperty() agentVersion!: string;
  @ApiProperty({ type: [HostCapabilityView] }) capabilities!: HostCapabilityView[];
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) lastSeenAt!:
    string | null;
  @ApiProperty({ type: String, format: 'date-time' }) enrolledAt!: string;
}

export class HostDetailView extends HostView {
  @ApiProperty({ type: [HostInterfaceView] }) interfaces!: HostInterfaceView[];
  @ApiProperty() masking!: string;
  @ApiProperty({ description: 'Highest contiguous batch sequence stored' })
  highestSequence!: number;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) lastBatchAt!:
    string | null;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) startedAt!:
    string | null;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) revokedAt!:
    string | null;
  @ApiPropertyOptional({
    type: 'object',
    nullable: true,
    additionalProperties: true,
    description: 'Agent health from its latest window',
  })
  health!: Record<string, unknown> | null;
  @ApiProperty({
    description:
      'Batches the agent dropped from its spool before delivering them (Hello.oldest_sequence past highest + 1)',
  })
  lostBatches!: number;
  @ApiProperty({ type: AgentConfigView, description: 'The configuration the server sends it' })
  config!: AgentConfigView;
  @ApiPropertyOptional({
    type: ConfigAppliedView,
    nullable: true,
    description: 'The latest ConfigApplied the agent sent (version, ok, error)',
  })
  configApplied!: ConfigAppliedView | null;
  @ApiProperty({ description: 'Config version the agent runs' })
  configVersion!: number;
}

export class HostPage {
  @ApiProperty({ type: [HostView] }) items!: HostView[];
  @ApiProperty() total!: number;
  @ApiProperty() limit!: number;
  @ApiProperty() offset!: number;
}

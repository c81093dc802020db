import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { LayerScope } from '../layers';
import { API_MASKING, ApiMasking } from '../masking';

/** One configuration layer; a null field is inherited from the layer below. */
export class LayerView {
  @ApiProperty({ enum: ['fleet', 'label', 'host'] }) scope!: LayerScope;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'Label key (label layers)' })
  key!: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'Label value (label layers)' })
  value!: string | null;
  @ApiProperty({ description: 'Label layers: the higher wins where two match one host' })
  priority!: number;
  @ApiProperty({ description: "The layer's own version; 0 = never set" }) version!: number;
  @ApiPropertyOptional({ type: Number, nullable: true }) windowSeconds!: number | null;
  @ApiPropertyOptional({ type: Number, nullable: true }) topN!: number | null;
  @ApiPropertyOptional({ type: [Number], nullable: true }) portAllowlist!: number[] | null;
  @ApiPropertyOptional({ enum: API_MASKING, nullable: true }) masking!: ApiMasking | null;
  @ApiPropertyOptional({ type: Number, nullable: true }) maxFlowsPerWindow!: number | null;
  @ApiPropertyOptional({ type: Number, nullable: true }) cpuBudgetPercent!: number | null;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true })
  updatedAt!: string | null;
  @ApiProperty({ description: 'Hosts this layer applies to (label layers: carrying the label)' })
  hosts!: number;
}

/** The server defaults (version 1 of every host), what the fleet layer overrides. */
export class DefaultSettingsView {
  @ApiProperty() windowSeconds!: number;
  @ApiProperty() topN!: number;
  @ApiProperty({ type: [Number] }) portAllowlist!: number[];
  @ApiProperty({ enum: API_MASKING }) masking!: ApiMasking;
  @ApiProperty() maxFlowsPerWindow!: number;
  @ApiProperty() cpuBudgetPercent!: number;
}

export class FleetConfigView {
  @ApiProperty({ type: LayerView }) layer!: LayerView;
  @ApiProperty({ type: DefaultSettingsView }) defaults!: DefaultSettingsView;
}

export class LabelLayerListView {
  @ApiProperty({ type: [LayerView], description: 'By priority, highest first' })
  items!: LayerView[];
}

/** A layer after a change, with how many hosts got a new desired configuration from it. */
export class LayerChangeView extends LayerView {
  @ApiProperty({ description: 'Hosts whose desired configuration (and version) changed' })
  changedHosts!: number;
}

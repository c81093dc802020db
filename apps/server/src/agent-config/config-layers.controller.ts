import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  Param,
  PipeTransform,
  Put,
  Query,
  Req,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { actorOfRequest, AuditedRequest } from '../audit/request-actor';
import { Roles } from '../auth/roles.decorator';
import { ConfigLayersService } from './config-layers.service';
import { DriftPageView } from './dto/drift.view';
import {
  DriftQuery,
  LabelLayerDto,
  LayerMaskingDto,
  LayerSettingsDto,
} from './dto/layer-settings.dto';
import { FleetConfigView, LabelLayerListView, LayerChangeView } from './dto/layer.view';

/** A label key or value path parameter, checked as a Hello's labels are; the 400 names it. */
function labelParam(name: 'key' | 'value'): PipeTransform<string, string> {
  const ok = name === 'key' ? /^[A-Za-z0-9_.\-/]{1,63}$/ : /^[^\u0000-\u001f\u007f]{1,256}$/u;
  const rule = name === 'key' ? 'match [A-Za-z0-9_.-/]{1,63}' : 'be 1 to 256 printable characters';
  return {
    transform(v: string) {
      if (!ok.test(v)) throw new BadRequestException(`${name} must ${rule}`);
      return v;
    },
  };
}

/**
 * Fleet-wide and per-label configuration layers (the system administrator's, but for the
 * masking policy in them: the security administrator's), and every host's drift.
 */
@ApiTags('agent-config')
@Controller('agent-config')
export class ConfigLayersController {
  constructor(private readonly layers: ConfigLayersService) {}

  @Get('fleet')
  @Roles('sysadmin', 'secadmin')
  @ApiOkResponse({ type: FleetConfigView })
  fleet(): Promise<FleetConfigView> {
    return this.layers.fleet();
  }

  /** Replaces the fleet layer's fields; every host whose merged configuration changes gets it. */
  @Put('fleet')
  @Roles('sysadmin')
  @ApiOkResponse({ type: LayerChangeView })
  @ApiBadRequestResponse({ description: 'A field is invalid; the message names it' })
  @ApiForbiddenResponse({ description: 'The masking differs from the current one' })
  putFleet(@Body() body: LayerSettingsDto, @Req() req: AuditedRequest): Promise<LayerChangeView> {
    return this.layers.putFleet(body, actorOfRequest(req));
  }

  @Put('fleet/masking')
  @Roles('secadmin')
  @ApiOkResponse({ type: LayerChangeView })
  putFleetMasking(
    @Body() body: LayerMaskingDto,
    @Req() req: AuditedRequest,
  ): Promise<LayerChangeView> {
    return this.layers.setMasking({ scope: 'fleet' }, body.masking, actorOfRequest(req));
  }

  @Get('labels')
  @Roles('sysadmin', 'secadmin')
  @ApiOkResponse({ type: LabelLayerListView })
  labels(): Promise<LabelLayerListView> {
    return this.layers.labels();
  }

  /** Creates or replaces the layer of hosts labelled key=value. */
  @Put('labels/:key/:value')
  @Roles('sysadmin')
  @ApiOkResponse({ type: LayerChangeView })
  @ApiBadRequestResponse({ description: 'A field is invalid; the message names it' })
  @ApiForbiddenResponse({ description: 'The masking differs from the current one' })
  @ApiConflictResponse({ description: 'A layer on another key has this priority' })
  putLabel(
    @Param('key', labelParam('key')) key: string,
    @Param('value', labelParam('value')) value: string,
    @Body() body: LabelLayerDto,
    @Req() req: AuditedRequest,
  ): Promise<LayerChangeView> {
    return this.layers.putLabel(key, value, body, actorOfRequest(req));
  }

  @Put('labels/:key/:value/masking')
  @Roles('secadmin')
  @ApiOkResponse({ type: LayerChangeView })
  putLabelMasking(
    @Param('key', labelParam('key')) key: string,
    @Param('value', labelParam('value')) value: string,
    @Body() body: LayerMaskingDto,
    @Req() req: AuditedRequest,
  ): Promise<LayerChangeView> {
    return this.layers.setMasking(
      { scope: 'label', key, value },
      body.masking,
      actorOfRequest(req),
    );
  }

  @Delete('labels/:key/:value')
  @Roles('sysadmin')
  @ApiOkResponse({ type: LayerChangeView, description: 'The deleted layer' })
  @ApiForbiddenResponse({ description: 'The layer sets the masking policy' })
  deleteLabel(
    @Param('key', labelParam('key')) key: string,
    @Param('value', labelParam('value')) value: string,
    @Req() req: AuditedRequest,
  ): Promise<LayerChangeView> {
    return this.layers.deleteLabel(key, value, actorOfRequest(req));
  }

  /** Hosts (not revoked) by hostname: desired against running version, last ConfigApplied. */
  @Get('drift')
  @Roles('sysadmin', 'secadmin')
  @ApiOkResponse({ type: DriftPageView })
  drift(@Query() q: DriftQuery): Promise<DriftPageView> {
    return this.layers.drift(q);
  }
}

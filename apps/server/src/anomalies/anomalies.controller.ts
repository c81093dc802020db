import { Body, Controller, Get, HttpCode, Param, Post, Put, Query, Req } from '@nestjs/common';
import { ApiConflictResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { AuthenticatedRequest } from '../auth/access.guard';
import { Roles } from '../auth/roles.decorator';
import { InvalidInputError } from '../common/domain-errors';
import { actorOf } from './actor';
import { AnomaliesService } from './anomalies.service';
import { AnomalyNoteDto, SuppressAnomalyDto } from './dto/anomaly-action.dto';
import { AnomalyHostsView, AnomalyListView, AnomalyView } from './dto/anomaly.view';
import { AnomalyHostsQuery, ListAnomaliesQuery } from './dto/anomalies.query';
import { ThresholdsService } from './thresholds.service';

const ID = /^[1-9][0-9]{0,17}$/;
function anomalyId(id: string): string {
  if (!ID.test(id)) throw new InvalidInputError('anomaly id must be a positive integer');
  return id;
}

/** Anomalies: read by operators and viewers, handled by operators (issue 9's roles). */
@ApiTags('anomalies')
@Controller('anomalies')
export class AnomaliesController {
  constructor(
    private readonly anomalies: AnomaliesService,
    private readonly thresholds: ThresholdsService,
  ) {}

  @Get()
  @Roles('operator', 'viewer', 'sysadmin', 'secadmin', 'auditadmin')
  @ApiOkResponse({ type: AnomalyListView })
  list(@Query() q: ListAnomaliesQuery) {
    return this.anomalies.list(q);
  }

  /** Hosts by how many anomalies match the filters, most first. */
  @Get('hosts')
  @Roles('operator', 'viewer', 'sysadmin', 'secadmin', 'auditadmin')
  @ApiOkResponse({ type: AnomalyHostsView })
  hosts(@Query() q: AnomalyHostsQuery) {
    return this.anomalies.hostCounts(q);
  }

  /** Effective detector thresholds by scope (fleet, label:k=v), with the defaults. */
  @Get('thresholds')
  @Roles('operator', 'viewer', 'secadmin')
  getThresholds() {
    return this.thresholds.describe();
  }

  /** Sets the thresholds of one scope: `fleet` or `label:key=value` (keys not given keep theirs). */
  @Put('thresholds/:scope')
  @Roles('secadmin')
  putThresholds(
    @Param('scope') scope: string,
    @Body() body: Record<string, unknown>,
    @Req() req: AuthenticatedRequest,
  ) {
    return this.thresholds.set(scope, body, actorOf(req));
  }

  @Get(':id')
  @Roles('operator', 'viewer', 'sysadmin', 'secadmin', 'auditadmin')
  @ApiOkResponse({ type: AnomalyView })
  get(@Param('id') id: string): Promise<AnomalyView> {
    return this.anomalies.get(anomalyId(id));
  }

  @Post(':id/acknowledge')
  @HttpCode(200)
  @Roles('operator')
  @ApiOkResponse({ type: AnomalyView })
  @ApiConflictResponse({ description: 'Not open' })
  acknowledge(
    @Param('id') id: string,
    @Body() body: AnomalyNoteDto,
    @Req() req: AuthenticatedRequest,
  ) {
    return this.anomalies.acknowledge(anomalyId(id), actorOf(req), body.note);
  }

  @Post(':id/resolve')
  @HttpCode(200)
  @Roles('operator')
  @ApiOkResponse({ type: AnomalyView })
  @ApiConflictResponse({ description: 'Already resolved' })
  resolve(@Param('id') id: string, @Body() body: AnomalyNoteDto, @Req() req: AuthenticatedRequest) {
    return this.anomalies.resolve(anomalyId(id), actorOf(req), body.note);
  }

  @Post(':id/suppress')
  @HttpCode(200)
  @Roles('operator')
  @ApiOkResponse({ type: AnomalyView })
  @ApiConflictResponse({ description: 'Not open or acknowledged' })
  suppress(
    @Param('id') id: string,
    @Body() body: SuppressAnomalyDto,
    @Req() req: AuthenticatedRequest,
  ) {
    const until = new Date(Date.now() + body.durationSeconds * 1000);
    return this.anomalies.suppress(anomalyId(id), actorOf(req), body.reason, until);
  }
}

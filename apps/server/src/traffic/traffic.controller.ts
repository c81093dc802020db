import { Controller, Get, Query } from '@nestjs/common';
import { Roles } from '../auth/roles.decorator';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import {
  RatesQuery,
  SeriesQuery,
  SparklinesQuery,
  TopHostsQuery,
  TopQuery,
  TrafficFilterQuery,
  TrafficScopeQuery,
} from './dto/traffic.query';
import {
  ConnectionsView,
  DropsView,
  HostRanksView,
  PortsView,
  RatesView,
  SeriesView,
  SparklinesView,
  SummaryView,
  TalkersView,
} from './dto/traffic.views';
import { TrafficService } from './traffic.service';

@ApiTags('traffic')
@ApiBadRequestResponse({ description: 'A parameter is invalid; the message names it' })
@Roles('operator', 'viewer')
@Controller('traffic')
export class TrafficController {
  constructor(private readonly traffic: TrafficService) {}

  @Get('summary')
  @ApiOkResponse({ type: SummaryView, description: 'Packets and bytes per protocol x direction' })
  summary(@Query() q: TrafficFilterQuery): Promise<SummaryView> {
    return this.traffic.summary(q);
  }

  @Get('series')
  @ApiOkResponse({ type: SeriesView })
  series(@Query() q: SeriesQuery): Promise<SeriesView> {
    return this.traffic.series(q);
  }

  @Get('sparklines')
  @ApiOkResponse({
    type: SparklinesView,
    description:
      "Each named host's series (groupBy none) over one range, exactly as GET /traffic/series answers it for that host alone, and its lostBatches; one statement for all of them",
  })
  @ApiNotFoundResponse({ description: 'An agentId names no host; the message lists them' })
  sparklines(@Query() q: SparklinesQuery): Promise<SparklinesView> {
    return this.traffic.sparklines(q);
  }

  @Get('rates')
  @ApiOkResponse({
    type: RatesView,
    description: 'Average rates over the range and reported peaks',
  })
  rates(@Query() q: RatesQuery): Promise<RatesView> {
    return this.traffic.rates(q);
  }

  @Get('ports')
  @ApiOkResponse({ type: PortsView, description: 'Top server ports' })
  ports(@Query() q: TopQuery): Promise<PortsView> {
    return this.traffic.topPorts(q);
  }

  @Get('talkers')
  @ApiOkResponse({ type: TalkersView, description: 'Top address pairs' })
  talkers(@Query() q: TopQuery): Promise<TalkersView> {
    return this.traffic.topTalkers(q);
  }

  @Get('connections')
  @ApiOkResponse({ type: ConnectionsView })
  connections(@Query() q: TrafficScopeQuery): Promise<ConnectionsView> {
    return this.traffic.connections(q);
  }

  @Get('hosts')
  @ApiOkResponse({ type: HostRanksView, description: 'Hosts ranked by a sum over the range' })
  hosts(@Query() q: TopHostsQuery): Promise<HostRanksView> {
    return this.traffic.topHosts(q);
  }

  @Get('drops')
  @ApiOkResponse({ type: DropsView })
  drops(@Query() q: TrafficScopeQuery): Promise<DropsView> {
    return this.traffic.drops(q);
  }
}

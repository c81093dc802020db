import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/roles.decorator';
import { uuidParam } from '../common/params';
import { HostDetailView, HostPage } from './dto/host.view';
import { ListHostsQuery } from './dto/list-hosts.query';
import { HostsService } from './hosts.service';

@ApiTags('hosts')
@Roles('sysadmin', 'operator', 'viewer')
@Controller('hosts')
export class HostsController {
  constructor(private readonly hosts: HostsService) {}

  @Get()
  @ApiOkResponse({ type: HostPage })
  list(@Query() q: ListHostsQuery): Promise<HostPage> {
    return this.hosts.list(q);
  }

  @Get(':agentId')
  @ApiOkResponse({ type: HostDetailView })
  get(@Param('agentId', uuidParam('agentId')) agentId: string): Promise<HostDetailView> {
    return this.hosts.get(agentId);
  }
}

import { Body, Controller, Delete, Get, Param, Put, Req } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/roles.decorator';
import { actorOfRequest, AuditedRequest } from '../audit/request-actor';
import { uuidParam } from '../common/params';
import { AgentConfigService } from './agent-config.service';
import { AgentConfigStateView, AgentConfigView } from './dto/agent-config.view';
import { UpdateAgentConfigDto, UpdateMaskingDto } from './dto/update-agent-config.dto';

@ApiTags('hosts')
@Controller('hosts')
export class AgentConfigController {
  constructor(private readonly configs: AgentConfigService) {}

  /** Read by the system administrator and the security administrator (who owns the masking policy). */
  @Get(':agentId/config')
  @Roles('sysadmin', 'secadmin')
  @ApiOkResponse({ type: AgentConfigStateView })
  get(@Param('agentId', uuidParam('agentId')) agentId: string): Promise<AgentConfigStateView> {
    return this.configs.state(agentId);
  }

  /**
   * Replaces the agent's configuration (new version), pushed at once on its open stream.
   * The masking must stay what it is (403 otherwise): it is the security administrator's.
   */
  @Put(':agentId/config')
  @Roles('sysadmin')
  @ApiOkResponse({ type: AgentConfigView, description: 'The new configuration and its version' })
  @ApiBadRequestResponse({ description: 'A field is invalid; the message names it' })
  put(
    @Param('agentId', uuidParam('agentId')) agentId: string,
    @Body() body: UpdateAgentConfigDto,
    @Req() req: AuditedRequest,
  ): Promise<AgentConfigView> {
    return this.configs.update(agentId, body, actorOfRequest(req));
  }

  /**
   * Removes the host's own override (its masking excepted): it gets what the fleet and label
   * layers give again (a new version where that differs, pushed).
   */
  @Delete(':agentId/config')
  @Roles('sysadmin')
  @ApiOkResponse({ type: AgentConfigView, description: 'The configuration the host gets now' })
  clear(
    @Param('agentId', uuidParam('agentId')) agentId: string,
    @Req() req: AuditedRequest,
  ): Promise<AgentConfigView> {
    return this.configs.clearOverride(agentId, actorOfRequest(req));
  }

  /** The masking policy (new version, pushed like any change); audited with old and new. */
  @Put(':agentId/masking')
  @Roles('secadmin')
  @ApiOkResponse({ type: AgentConfigView, description: 'The new configuration and its version' })
  putMasking(
    @Param('agentId', uuidParam('agentId')) agentId: string,
    @Body() body: UpdateMaskingDto,
    @Req() req: AuditedRequest,
  ): Promise<AgentConfigView> {
    return this.configs.setMasking(agentId, body.masking, actorOfRequest(req));
  }
}

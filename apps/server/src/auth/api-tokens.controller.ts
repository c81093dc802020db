import { Body, Controller, Delete, Get, Param, Post, Req } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { uuidParam } from '../common/params';
import type { AuthenticatedRequest } from './access.guard';
import { ApiTokensService, ApiTokenView } from './api-tokens.service';
import { ApiTokenListItem, ApiTokenListView, CreatedApiTokenView } from './dto/api-token.view';
import { CreateApiTokenDto } from './dto/auth.dto';
import { requestIdOf, sourceOf } from './request-credentials';
import { Roles } from './roles.decorator';

/** Integration tokens, managed by the security administrator. */
@ApiTags('auth')
@Roles('secadmin')
@Controller('api-tokens')
export class ApiTokensController {
  constructor(private readonly tokens: ApiTokensService) {}

  private actor(req: AuthenticatedRequest) {
    const p = req.principal!;
    return { name: p.name, role: p.role, source: sourceOf(req), requestId: requestIdOf(req) };
  }

  @Get()
  @ApiOkResponse({ type: ApiTokenListView })
  async list(): Promise<{ items: ApiTokenView[] }> {
    return { items: await this.tokens.list() };
  }

  /** The token is in the answer once; only its hash is stored. */
  @Post()
  @ApiCreatedResponse({ type: CreatedApiTokenView })
  async create(
    @Body() body: CreateApiTokenDto,
    @Req() req: AuthenticatedRequest,
  ): Promise<ApiTokenView & { token: string }> {
    const { token, view } = await this.tokens.create(this.actor(req), body);
    return { ...view, token };
  }

  @Delete(':id')
  @ApiOkResponse({ type: ApiTokenListItem })
  revoke(
    @Param('id', uuidParam('id')) id: string,
    @Req() req: AuthenticatedRequest,
  ): Promise<ApiTokenView> {
    return this.tokens.revoke(this.actor(req), id);
  }
}

import { Body, Controller, Get, HttpCode, Param, Patch, Post, Req } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { AuthenticatedRequest } from '../auth/access.guard';
import { requestIdOf, sourceOf } from '../auth/request-credentials';
import { Roles } from '../auth/roles.decorator';
import { CreateUserDto, ResetUserDto, UpdateUserDto } from './dto/users.dto';
import { CreatedUserView, ResetUserView, UserListView, UserView } from './dto/user.view';
import type { User } from './user';
import { Actor, UsersService } from './users.service';

/** Users and roles: the security administrator's. */
@ApiTags('users')
@Roles('secadmin')
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  private actor(req: AuthenticatedRequest): Actor {
    const p = req.principal!;
    return { name: p.name, role: p.role, source: sourceOf(req), requestId: requestIdOf(req) };
  }

  @Get()
  @ApiOkResponse({ type: UserListView })
  async list(): Promise<{ items: User[] }> {
    return { items: await this.users.list() };
  }

  @Post()
  @ApiCreatedResponse({ type: CreatedUserView })
  async create(
    @Body() body: CreateUserDto,
    @Req() req: AuthenticatedRequest,
  ): Promise<{ user: User; password?: string }> {
    const { user, generatedPassword } = await this.users.create(this.actor(req), body);
    return generatedPassword ? { user, password: generatedPassword } : { user };
  }

  @Get(':username')
  @ApiOkResponse({ type: UserView })
  get(@Param('username') username: string): Promise<User> {
    return this.users.get(username);
  }

  /** Role change (separation of the administrator roles enforced) and disable/enable. */
  @Patch(':username')
  @ApiOkResponse({ type: UserView })
  async update(
    @Param('username') username: string,
    @Body() body: UpdateUserDto,
    @Req() req: AuthenticatedRequest,
  ): Promise<User> {
    let user = await this.users.get(username);
    if (body.role !== undefined && body.role !== user.role) {
      user = await this.users.setRole(this.actor(req), username, body.role);
    }
    if (body.disabled !== undefined && body.disabled !== (user.disabledAt !== null)) {
      user = await this.users.setDisabled(this.actor(req), username, body.disabled);
    }
    return user;
  }

  /** A new generated password (shown once, changed at next sign-in); sessions end. */
  @Post(':username/reset')
  @HttpCode(200)
  @ApiOkResponse({ type: ResetUserView })
  async reset(
    @Param('username') username: string,
    @Body() body: ResetUserDto,
    @Req() req: AuthenticatedRequest,
  ): Promise<{ user: User; password: string }> {
    return this.users.reset(this.actor(req), username, { totp: body.totp });
  }

  @Post(':username/unlock')
  @HttpCode(200)
  @ApiOkResponse({ type: UserView })
  unlock(@Param('username') username: string, @Req() req: AuthenticatedRequest): Promise<User> {
    return this.users.unlock(this.actor(req), username);
  }
}

import { Body, Controller, Get, Put, Req } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { AuthenticatedRequest } from '../access.guard';
import { requestIdOf, sourceOf } from '../request-credentials';
import { Roles } from '../roles.decorator';
import type { Actor } from '../../users/users.service';
import {
  GroupRolesDto,
  GroupRolesView,
  SignInPolicyDto,
  SignInPolicyView,
} from './dto/security-settings.dto';
import { GroupRolesState, LdapGroupRolesService } from './ldap-group-roles.service';
import { SignInPolicyService, SignInPolicyState } from './sign-in-policy.service';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function policyView(s: SignInPolicyState): SignInPolicyView {
  return { ...s.policy, source: s.source, updatedAt: iso(s.updatedAt), updatedBy: s.updatedBy };
}

function groupRolesView(s: GroupRolesState): GroupRolesView {
  return { ...s, updatedAt: iso(s.updatedAt) };
}

/** The security administrator's run-time settings: sign-in policy, LDAP group mapping. */
@ApiTags('auth')
@Roles('secadmin')
@Controller('auth')
export class SecuritySettingsController {
  constructor(
    private readonly policy: SignInPolicyService,
    private readonly groupRoles: LdapGroupRolesService,
  ) {}

  private actor(req: AuthenticatedRequest): Actor {
    const p = req.principal!;
    return { name: p.name, role: p.role, source: sourceOf(req), requestId: requestIdOf(req) };
  }

  @Get('policy')
  @ApiOkResponse({ type: SignInPolicyView })
  async getPolicy(): Promise<SignInPolicyView> {
    return policyView(await this.policy.load());
  }

  /** Replaces the policy; in force at once (next sign-in, password change and request). */
  @Put('policy')
  @ApiOkResponse({ type: SignInPolicyView })
  @ApiBadRequestResponse({ description: 'A field is out of bounds; the message names it' })
  async putPolicy(
    @Body() body: SignInPolicyDto,
    @Req() req: AuthenticatedRequest,
  ): Promise<SignInPolicyView> {
    return policyView(await this.policy.update(this.actor(req), body));
  }

  @Get('ldap/group-roles')
  @ApiOkResponse({ type: GroupRolesView })
  async getGroupRoles(): Promise<GroupRolesView> {
    return groupRolesView(await this.groupRoles.load());
  }

  /** Replaces the mapping; every directory user is checked again at their next request. */
  @Put('ldap/group-roles')
  @ApiOkResponse({ type: GroupRolesView })
  async putGroupRoles(
    @Body() body: GroupRolesDto,
    @Req() req: AuthenticatedRequest,
  ): Promise<GroupRolesView> {
    return groupRolesView(await this.groupRoles.update(this.actor(req), body.mappings));
  }
}

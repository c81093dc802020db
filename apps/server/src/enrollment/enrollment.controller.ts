import { Body, Controller, Delete, Get, Param, Post, Req } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { actorOfRequest as who, AuditedRequest } from '../audit/request-actor';
import { Roles } from '../auth/roles.decorator';
import { uuidParam } from '../common/params';
import { CreateEnrollmentTokenDto } from './dto/enrollment.dto';
import {
  CreatedEnrollmentTokenView,
  EnrollmentTokenListView,
  RevokedEnrollmentTokenView,
} from './dto/enrollment-token.view';
import { EnrollmentTokenEntity } from './enrollment-token.entity';
import { EnrollmentService } from './enrollment.service';

const HOUR_MS = 3_600_000;

/** An enrollment token as listed: never the token, which is shown once at creation. */
const view = (t: EnrollmentTokenEntity) => ({
  id: t.id,
  name: t.name,
  createdAt: t.createdAt.toISOString(),
  expiresAt: t.expiresAt?.toISOString() ?? null,
  maxUses: t.maxUses,
  uses: t.uses,
  revokedAt: t.revokedAt?.toISOString() ?? null,
});

/**
 * Enrollment tokens over HTTP, the system administrator's (issue 9's role table), doing what
 * `tidewatch-server enroll create|list|revoke` does, audited the same way in the same transaction.
 */
@ApiTags('enrollment')
@Roles('sysadmin')
@Controller('enrollment-tokens')
export class EnrollmentController {
  constructor(
    private readonly ds: DataSource,
    private readonly enrollment: EnrollmentService,
    private readonly audit: AuditService,
  ) {}

  @Get()
  @ApiOkResponse({ type: EnrollmentTokenListView })
  async list() {
    return { items: (await this.enrollment.list()).map(view) };
  }

  /** The token is in the answer once; only its hash is stored. */
  @Post()
  @ApiCreatedResponse({ type: CreatedEnrollmentTokenView })
  create(@Body() body: CreateEnrollmentTokenDto, @Req() req: AuditedRequest) {
    return this.ds.transaction(async (em) => {
      const created = await this.enrollment.create(
        body.name,
        (body.expiresInHours ?? 24) * HOUR_MS,
        body.maxUses ?? null,
        em,
      );
      await this.audit.recordIn(em, {
        ...who(req),
        action: 'enrollment.token_created',
        target: created.id,
        outcome: 'success',
        details: {
          name: created.name,
          expiresAt: created.expiresAt?.toISOString() ?? null,
          maxUses: created.maxUses,
        },
      });
      return {
        id: created.id,
        name: created.name,
        expiresAt: created.expiresAt?.toISOString() ?? null,
        maxUses: created.maxUses,
        token: created.token,
      };
    });
  }

  /** Agents already enrolled with it keep their credentials. */
  @Delete(':id')
  @ApiOkResponse({ type: RevokedEnrollmentTokenView })
  revoke(@Param('id', uuidParam('id')) id: string, @Req() req: AuditedRequest) {
    return this.ds.transaction(async (em) => {
      const revoked = await this.enrollment.revoke(id, em);
      await this.audit.recordIn(em, {
        ...who(req),
        action: 'enrollment.token_revoked',
        target: id,
        outcome: 'success',
        details: { tokens: revoked },
      });
      return { id, revoked };
    });
  }
}

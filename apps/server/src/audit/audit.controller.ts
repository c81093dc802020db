import { Controller, Get, HttpCode, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiProduces,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { Roles } from '../auth/roles.decorator';
import { AuditCheckpointService } from './audit-checkpoint.service';
import { AuditFilter, AuditQueryService } from './audit-query.service';
import { AuditService } from './audit.service';
import { actorOfRequest as who, AuditedRequest } from './request-actor';
import { CSV_BOM, csvRow } from './csv';
import { AuditFilterQuery, AuditSearchQuery, AuditVerifyQuery } from './dto/audit.query';
import { AuditPageView, AuditPurgeView, AuditVerifyView, entryView } from './dto/audit.views';

/** The part of the response object the CSV export streams to. */
interface StreamResponse {
  status(code: number): this;
  setHeader(name: string, value: string): void;
  write(chunk: string): boolean;
  end(): void;
  once(event: 'drain', fn: () => void): void;
}

const EXPORT_COLUMNS = [
  'sequence',
  'time',
  'actor',
  'actor_role',
  'source',
  'action',
  'target',
  'outcome',
  'reason',
  'request_id',
  'details',
  'hash_alg',
  'prev_hash',
  'hash',
];

/** The audit trail, for the audit administrator only (三权分立). Reading it is itself recorded. */
@ApiTags('audit')
@Roles('auditadmin')
@Controller('audit')
export class AuditController {
  constructor(
    private readonly audit: AuditService,
    private readonly queries: AuditQueryService,
    private readonly checkpoints: AuditCheckpointService,
  ) {}

  @Get()
  @ApiOkResponse({ type: AuditPageView })
  async search(@Query() q: AuditSearchQuery, @Req() req: AuditedRequest): Promise<AuditPageView> {
    const page = await this.queries.search(
      filter(q),
      q.limit,
      q.before ? BigInt(q.before) : undefined,
    );
    await this.audit.record({
      ...who(req),
      action: 'audit.searched',
      outcome: 'success',
      details: {
        filter: filterDetails(q),
        limit: q.limit,
        before: q.before ?? null,
        returned: page.items.length,
      },
    });
    return { items: page.items.map(entryView), nextBefore: page.nextBefore };
  }

  @Get('verify')
  @ApiOkResponse({ type: AuditVerifyView })
  async verify(@Query() q: AuditVerifyQuery, @Req() req: AuditedRequest): Promise<AuditVerifyView> {
    const result = await this.checkpoints.verify(q.mode);
    await this.audit.record({
      ...who(req),
      action: 'audit.verified',
      outcome: result.ok ? 'success' : 'failure',
      reason: result.reason ?? null,
      details: { mode: q.mode, checked: result.checked, brokenAt: result.brokenAt ?? null },
    });
    return result;
  }

  @Get('export')
  @ApiProduces('text/csv')
  @ApiOkResponse({ description: 'CSV (UTF-8 with BOM), oldest first' })
  @ApiServiceUnavailableResponse({
    description: 'The export could not be recorded, so it was not done',
  })
  async export(
    @Query() q: AuditFilterQuery,
    @Req() req: AuditedRequest,
    @Res() res: StreamResponse,
  ): Promise<void> {
    // Recorded first: an export that cannot be recorded does not happen.
    await this.audit.record({
      ...who(req),
      action: 'audit.exported',
      outcome: 'success',
      details: { filter: filterDetails(q), format: 'csv' },
    });
    res.status(200);
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader(
      'Content-Disposition',
      `attachment; filename="tidewatch-audit-${new Date().toISOString().slice(0, 10)}.csv"`,
    );
    let buf = CSV_BOM + csvRow(EXPORT_COLUMNS);
    for await (const page of this.queries.scan(filter(q))) {
      for (const e of page) {
        const v = entryView(e);
        buf += csvRow([
          v.sequence,
          v.time,
          v.actor,
          v.actorRole,
          v.source,
          v.action,
          v.target,
          v.outcome,
          v.reason,
          v.requestId,
          e.details,
          v.hashAlg,
          v.prevHash,
          v.hash,
        ]);
      }
      if (!res.write(buf)) await new Promise<void>((r) => res.once('drain', r));
      buf = '';
    }
    if (buf) res.write(buf);
    res.end();
  }

  /** Removes entries past the retention (never under 180 days) and leaves a tombstone. */
  @Post('purge')
  @HttpCode(200)
  @ApiOkResponse({ type: AuditPurgeView })
  purge(@Req() req: AuditedRequest): Promise<AuditPurgeView> {
    return this.queries.purge(who(req));
  }
}

function filter(q: AuditFilterQuery): AuditFilter {
  return {
    actor: q.actor,
    action: q.action,
    target: q.target,
    outcome: q.outcome,
    from: q.from ? new Date(q.from) : undefined,
    to: q.to ? new Date(q.to) : undefined,
  };
}

function filterDetails(q: AuditFilterQuery): Record<string, unknown> {
  const f: Record<string, unknown> = {};
  for (const k of ['actor', 'action', 'target', 'outcome', 'from', 'to'] as const)
    if (q[k] !== undefined) f[k] = q[k];
  return f;
}

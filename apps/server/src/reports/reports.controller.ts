import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Put,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiOkResponse,
  ApiProduces,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { Roles } from '../auth/roles.decorator';
import { actorOfRequest as who, AuditedRequest } from '../audit/request-actor';
import { InvalidInputError } from '../common/domain-errors';
import { DAY_MS } from '../traffic/time-range';
import { ReportQuery, ReportScheduleDto, StoredReportsQuery } from './dto/reports.dto';
import {
  ReportScheduleListView,
  ReportScheduleView,
  ReportVerificationView,
  StoredReportListView,
} from './dto/report.view';
import { ReportSchedulerService } from './report-scheduler.service';
import { ReportsService } from './reports.service';

/** The part of the response object a report is sent through. */
interface SendResponse {
  status(code: number): this;
  setHeader(name: string, value: string): void;
  end(body: Buffer): void;
}

const ID = /^[1-9][0-9]{0,17}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function reportId(id: string): string {
  if (!ID.test(id)) throw new InvalidInputError('report id must be a positive integer');
  return id;
}

function scheduleName(name: string): string {
  if (!NAME.test(name)) {
    throw new InvalidInputError(
      'schedule name must be 1-64 letters, digits, _ . - (first a letter or digit)',
    );
  }
  return name;
}

function send(
  res: SendResponse,
  r: { body: Buffer; contentType: string; digestAlg: string; digest: string },
  filename: string,
  id?: string,
): void {
  res.status(200);
  res.setHeader('Content-Type', r.contentType);
  res.setHeader(
    'Content-Disposition',
    `${r.contentType.startsWith('application/json') ? 'inline' : 'attachment'}; filename="${filename}"`,
  );
  res.setHeader('X-Report-Digest', `${r.digestAlg}:${r.digest}`);
  if (id) res.setHeader('X-Report-Id', id);
  res.end(r.body);
}

const day = (iso: string) => iso.slice(0, 10);

/**
 * Compliance reports (issue 10): read by operators and viewers (API tokens of
 * those roles too); the daily schedules belong to the system administrator
 * (issue 9's role table).
 */
@ApiTags('reports')
@Controller('reports')
export class ReportsController {
  constructor(
    private readonly reports: ReportsService,
    private readonly scheduler: ReportSchedulerService,
  ) {}

  /** The report itself (JSON, CSV or PDF), generated now; the generation and its digest are audited first. */
  @Get(['', 'traffic'])
  @Roles('operator', 'viewer')
  @ApiProduces('application/json', 'text/csv', 'application/pdf')
  @ApiOkResponse({ description: 'The report document; X-Report-Digest names its digest' })
  @ApiServiceUnavailableResponse({
    description: 'The generation could not be audited, so it was not sent',
  })
  async report(
    @Query() q: ReportQuery,
    @Req() req: AuditedRequest,
    @Res() res: SendResponse,
  ): Promise<void> {
    if (q.agentId && q.labels)
      throw new InvalidInputError('agentId and labels are exclusive; give one');
    const to = q.to ? new Date(q.to) : new Date();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - DAY_MS);
    const r = await this.reports.generate(
      { from, to, agentId: q.agentId, labels: q.labels, lang: q.lang, top: q.top },
      q.format,
      who(req),
    );
    send(
      res,
      r,
      `tidewatch-report-${day(from.toISOString())}-${day(to.toISOString())}.${r.extension}`,
    );
  }

  @Get('stored')
  @Roles('operator', 'viewer')
  @ApiOkResponse({
    type: StoredReportListView,
    description: 'Kept (scheduled) reports, newest first, without their bytes',
  })
  stored(@Query() q: StoredReportsQuery) {
    return this.reports.list(q.limit, q.offset);
  }

  /** A kept report's bytes, exactly as generated; the download is audited first. */
  @Get('stored/:id')
  @Roles('operator', 'viewer')
  @ApiProduces('application/json', 'text/csv', 'application/pdf')
  async download(
    @Param('id') id: string,
    @Req() req: AuditedRequest,
    @Res() res: SendResponse,
  ): Promise<void> {
    const r = await this.reports.download(reportId(id), who(req));
    send(res, r, `tidewatch-report-${r.id}-${day(r.from)}.${r.format}`, r.id);
  }

  /** Re-hashes a kept report and compares it with the digest the audit trail recorded at generation. */
  @Get('stored/:id/verify')
  @Roles('operator', 'viewer', 'auditadmin')
  @ApiOkResponse({ type: ReportVerificationView })
  verify(@Param('id') id: string, @Req() req: AuditedRequest) {
    return this.reports.verify(reportId(id), who(req));
  }

  @Get('schedules')
  @Roles('sysadmin')
  @ApiOkResponse({ type: ReportScheduleListView })
  schedules() {
    return this.scheduler.list().then((items) => ({ items }));
  }

  @Put('schedules/:name')
  @Roles('sysadmin')
  @ApiOkResponse({ type: ReportScheduleView })
  putSchedule(
    @Param('name') name: string,
    @Body() body: ReportScheduleDto,
    @Req() req: AuditedRequest,
  ) {
    if (body.agentId && body.labels)
      throw new InvalidInputError('agentId and labels are exclusive; give one');
    return this.scheduler.put(
      scheduleName(name),
      {
        agentId: body.agentId ?? null,
        labels: body.labels ?? null,
        formats: [...new Set(body.formats)],
        lang: body.lang,
        hour: body.hour,
        utcOffsetMinutes: body.utcOffsetMinutes,
        enabled: body.enabled,
      },
      who(req),
    );
  }

  @Delete('schedules/:name')
  @HttpCode(204)
  @Roles('sysadmin')
  async deleteSchedule(@Param('name') name: string, @Req() req: AuditedRequest): Promise<void> {
    await this.scheduler.remove(scheduleName(name), who(req));
  }
}

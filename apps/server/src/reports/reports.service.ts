import { Injectable } from '@nestjs/common';
import { hash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditQueryService } from '../audit/audit-query.service';
import { AuditService } from '../audit/audit.service';
import type { AuditActor } from '../audit/request-actor';
import { NotFoundError } from '../common/domain-errors';
import { ConfigurationService } from '../config/configuration.service';
import { ReportBuilderService, ReportRequest } from './report-builder.service';
import type { ReportDocument, ReportFormat, ReportLang } from './report-document';
import { renderCsv } from './render-csv';
import { renderPdf } from './render-pdf';

export interface RenderedReport {
  body: Buffer;
  contentType: string;
  extension: string;
  digestAlg: string;
  digest: string;
}

export interface StoredReportView {
  id: string;
  scheduleName: string | null;
  from: string;
  to: string;
  scope: Record<string, unknown>;
  format: ReportFormat;
  lang: ReportLang;
  contentType: string;
  bytes: number;
  digestAlg: string;
  digest: string;
  generatedBy: string | null;
  createdAt: string;
}

export interface ReportVerification {
  id: string;
  ok: boolean;
  digestAlg: string;
  /** Digest of the bytes stored now. */
  digest: string;
  /** Digest the audit trail recorded when the report was generated (null: no entry found). */
  auditedDigest: string | null;
  auditSequence: string | null;
  reason?: string;
}

interface Row {
  id: string;
  schedule_name: string | null;
  period_from: Date;
  period_to: Date;
  scope: Record<string, unknown>;
  format: ReportFormat;
  lang: ReportLang;
  content_type: string;
  bytes: number;
  digest_alg: string;
  digest: string;
  generated_by: string | null;
  created_at: Date;
}

const COLUMNS = `id::text, schedule_name, period_from, period_to, scope, format, lang, content_type,
  octet_length(content) AS bytes, digest_alg, digest, generated_by, created_at`;

const TYPES: Record<ReportFormat, string> = {
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  pdf: 'application/pdf',
};

function view(r: Row): StoredReportView {
  return {
    id: r.id,
    scheduleName: r.schedule_name,
    from: r.period_from.toISOString(),
    to: r.period_to.toISOString(),
    scope: r.scope,
    format: r.format,
    lang: r.lang,
    contentType: r.content_type,
    bytes: Number(r.bytes),
    digestAlg: r.digest_alg,
    digest: r.digest,
    generatedBy: r.generated_by,
    createdAt: r.created_at.toISOString(),
  };
}

/**
 * Reports rendered, digested (the audit trail's hash, SM3 by default) and
 * audited before a byte leaves: generation and every download are recorded,
 * and a failure to record stops them (fail closed).
 */
@Injectable()
export class ReportsService {
  constructor(
    private readonly ds: DataSource,
    private readonly builder: ReportBuilderService,
    private readonly audit: AuditService,
    private readonly auditQueries: AuditQueryService,
    private readonly config: ConfigurationService,
  ) {}

  get digestAlg(): string {
    return this.config.get('audit').hashAlgorithm;
  }

  digestOf(body: Buffer): string {
    return hash(this.digestAlg, body, 'hex');
  }

  async render(doc: ReportDocument, format: ReportFormat): Promise<RenderedReport> {
    const body =
      format === 'pdf'
        ? await renderPdf(doc)
        : format === 'csv'
          ? renderCsv(doc)
          : Buffer.from(JSON.stringify(doc, null, 2), 'utf8');
    return {
      body,
      contentType: TYPES[format],
      extension: format,
      digestAlg: this.digestAlg,
      digest: this.digestOf(body),
    };
  }

  /** Built for the caller and handed over at once: one audited generation, not kept. */
  async generate(
    req: ReportRequest,
    format: ReportFormat,
    actor: AuditActor,
  ): Promise<RenderedReport> {
    const doc = await this.builder.build(req);
    const out = await this.render(doc, format);
    await this.audit.record({
      ...actor,
      action: 'report.generated',
      target: 'report:on-demand',
      outcome: 'success',
      details: { ...this.describe(req, format, out), stored: false, delivered: true },
    });
    return out;
  }

  /**
   * Built, kept and audited in one transaction (the entry names the report and
   * its digest). Null when the schedule's report for that period exists already.
   */
  async generateStored(
    req: ReportRequest,
    format: ReportFormat,
    scheduleName: string | null,
    actor: AuditActor,
  ): Promise<StoredReportView | null> {
    const doc = await this.builder.build(req);
    const out = await this.render(doc, format);
    const scope = {
      agentId: req.agentId ?? null,
      labels: req.labels ?? null,
      hosts: doc.scope.hosts,
    };
    return this.ds.transaction(async (em) => {
      const rows: Row[] = await em.query(
        `INSERT INTO reports (schedule_name, period_from, period_to, scope, format, lang, content_type,
                              content, digest_alg, digest, generated_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (schedule_name, period_from, format, lang) WHERE schedule_name IS NOT NULL DO NOTHING
         RETURNING ${COLUMNS}`,
        [
          scheduleName,
          req.from,
          req.to,
          JSON.stringify(scope),
          format,
          req.lang,
          out.contentType,
          out.body,
          out.digestAlg,
          out.digest,
          actor.actor ?? null,
        ],
      );
      if (!rows.length) return null;
      await this.audit.recordIn(em, {
        ...actor,
        action: 'report.generated',
        target: `report:${rows[0].id}`,
        outcome: 'success',
        details: { ...this.describe(req, format, out), stored: true, schedule: scheduleName },
      });
      return view(rows[0]);
    });
  }

  async list(limit: number, offset: number): Promise<{ items: StoredReportView[]; total: number }> {
    const [{ total }]: { total: number }[] = await this.ds.query(
      `SELECT count(*)::int AS total FROM reports`,
    );
    const rows: Row[] = await this.ds.query(
      `SELECT ${COLUMNS} FROM reports ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2`,
      [limit, offset],
    );
    return { items: rows.map(view), total };
  }

  /** The stored bytes, after the download is recorded. */
  async download(id: string, actor: AuditActor): Promise<StoredReportView & { body: Buffer }> {
    const rows: (Row & { content: Buffer })[] = await this.ds.query(
      `SELECT ${COLUMNS}, content FROM reports WHERE id = $1`,
      [id],
    );
    if (!rows.length) throw new NotFoundError(`no stored report ${id}`);
    const r = rows[0];
    await this.audit.record({
      ...actor,
      action: 'report.downloaded',
      target: `report:${id}`,
      outcome: 'success',
      details: {
        format: r.format,
        lang: r.lang,
        digestAlg: r.digest_alg,
        digest: r.digest,
        bytes: r.content.length,
      },
    });
    return { ...view(r), body: r.content };
  }

  /**
   * Re-hashes the stored bytes and compares them with the digest the audit
   * trail recorded at generation (the trail is hash-chained; the reports
   * table is not, so its own digest column is not trusted for this).
   */
  async verify(id: string, actor: AuditActor): Promise<ReportVerification> {
    const rows: { content: Buffer; digest_alg: string }[] = await this.ds.query(
      `SELECT content, digest_alg FROM reports WHERE id = $1`,
      [id],
    );
    if (!rows.length) throw new NotFoundError(`no stored report ${id}`);
    const { items } = await this.auditQueries.search(
      { action: 'report.generated', target: `report:${id}` },
      1,
    );
    const entry = items[0];
    const details = entry?.details
      ? (JSON.parse(entry.details) as { digest?: string; digestAlg?: string })
      : null;
    const alg = details?.digestAlg ?? rows[0].digest_alg;
    const digest = hash(alg, rows[0].content, 'hex');
    const audited = details?.digest ?? null;
    const ok = audited !== null && audited === digest;
    const result: ReportVerification = {
      id,
      ok,
      digestAlg: alg,
      digest,
      auditedDigest: audited,
      auditSequence: entry ? entry.sequence.toString() : null,
      ...(ok
        ? {}
        : {
            reason:
              audited === null
                ? `no report.generated audit entry names report ${id}`
                : `the stored bytes hash to ${digest}, the audit trail recorded ${audited}: the report was changed`,
          }),
    };
    await this.audit.record({
      ...actor,
      action: 'report.verified',
      target: `report:${id}`,
      outcome: ok ? 'success' : 'failure',
      reason: result.reason ?? null,
      details: { digest, auditedDigest: audited, auditSequence: result.auditSequence },
    });
    return result;
  }

  private describe(req: ReportRequest, format: ReportFormat, out: RenderedReport) {
    return {
      format,
      lang: req.lang,
      from: req.from.toISOString(),
      to: req.to.toISOString(),
      agentId: req.agentId ?? null,
      labels: req.labels ?? null,
      digestAlg: out.digestAlg,
      digest: out.digest,
      bytes: out.body.length,
    };
  }
}

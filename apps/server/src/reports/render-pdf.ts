// PDF in Node with pdfkit (no browser): A4, a CJK font embedded as a subset
// (only the glyphs used), the report's tables and two vector charts.

import { existsSync } from 'node:fs';
import PDFDocument from 'pdfkit';
import { DomainError } from '../common/domain-errors';
import type { ReportDocument } from './report-document';
import { catalog, formatCount, formatNumber, formatTime } from './report-i18n';
import {
  Cell,
  ColumnKind,
  isKeyValue,
  reportHeading,
  reportSections,
  Table,
} from './report-tables';

/** WenQuanYi Micro Hei (Debian fonts-wqy-microhei; Apache-2.0 or GPL-3+ with font exception). */
export const REPORT_FONT_FILE = '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc';
/** The face inside the collection. */
export const REPORT_FONT_FACE = 'WenQuanYiMicroHei';

export class ReportFontMissingError extends DomainError {
  override name = 'ReportFontMissingError';
  readonly kind = 'unavailable';
}

const MARGIN = 40;
const FONT_SIZE = 8;
const ROW_H = 13;
const INK = '#1f2937';
const GRID = '#d1d5db';
const HEAD_BG = '#e5e7eb';
const COLORS = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#6b7280'];

type Doc = PDFKit.PDFDocument;

function cellText(d: ReportDocument, kind: ColumnKind, v: Cell): string {
  if (v === null || v === undefined) return '—';
  switch (kind) {
    case 'count':
      return formatCount(d.lang, typeof v === 'number' ? v : String(v));
    case 'number':
      return formatNumber(d.lang, typeof v === 'number' ? v : Number(v));
    case 'time':
      return formatTime(String(v));
    default:
      return String(v);
  }
}

export function renderPdf(d: ReportDocument): Promise<Buffer> {
  if (!existsSync(REPORT_FONT_FILE)) {
    throw new ReportFontMissingError(
      `the PDF font ${REPORT_FONT_FILE} is missing: install the Debian package fonts-wqy-microhei (npm run setup does)`,
    );
  }
  const t = catalog(d.lang);
  const doc = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    bufferPages: true,
    info: {
      Title: t.title,
      Author: 'Tidewatch',
      Subject: `${d.from} — ${d.to}`,
      CreationDate: new Date(d.generatedAt),
    },
    lang: d.lang,
  } as PDFKit.PDFDocumentOptions);
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  doc.registerFont('cjk', REPORT_FONT_FILE, REPORT_FONT_FACE);
  doc.font('cjk').fillColor(INK);

  doc.fontSize(16).text(t.title, { align: 'left' });
  doc.moveDown(0.3).fontSize(9);
  for (const [k, v] of reportHeading(d)) doc.text(`${k}: ${v}`);
  doc.text(t.timeZone);
  doc.moveDown(0.5);

  for (const s of reportSections(d)) {
    heading(doc, s.title);
    if (s.note) doc.fontSize(FONT_SIZE).text(s.note).moveDown(0.2);
    for (const table of s.tables) drawTable(doc, d, table);
    if (s.key === 'protocols') barChart(doc, d);
    if (s.key === 'directions') lineChart(doc, d);
  }

  // Page numbers, written once every page exists (the bottom margin lifted so no page is added).
  const range = doc.bufferedPageRange();
  for (let i = 0; i < range.count; i++) {
    doc.switchToPage(range.start + i);
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    doc
      .fontSize(7)
      .fillColor('#6b7280')
      .text(t.page(i + 1, range.count), MARGIN, doc.page.height - 25, {
        width: doc.page.width - 2 * MARGIN,
        align: 'center',
        lineBreak: false,
      });
    doc.page.margins.bottom = bottom;
  }
  doc.end();
  return done;
}

const usableWidth = (doc: Doc) => doc.page.width - 2 * MARGIN;
const bottomLimit = (doc: Doc) => doc.page.height - MARGIN - 10;

function ensureSpace(doc: Doc, h: number): void {
  if (doc.y + h > bottomLimit(doc)) {
    doc.addPage();
    doc.y = MARGIN;
  }
}

function heading(doc: Doc, title: string): void {
  ensureSpace(doc, 40);
  doc.moveDown(0.6);
  doc.x = MARGIN;
  doc.fontSize(11).fillColor(INK).text(title);
  doc.moveDown(0.2);
}

function drawTable(doc: Doc, d: ReportDocument, table: Table): void {
  const kinds = isKeyValue(table) ? table.kinds : null;
  const width = usableWidth(doc);
  const n = table.columns.length;
  const header = table.columns.map((c) => c.title);
  const body = table.rows.map((r, ri) =>
    r.map((v, i) =>
      kinds && i === 1 ? cellText(d, kinds[ri], v) : cellText(d, table.columns[i].kind, v),
    ),
  );
  // Each column as wide as its widest cell (capped), then scaled to the page's width.
  doc.fontSize(FONT_SIZE);
  const natural = header.map((h, i) =>
    Math.min(
      220,
      Math.max(doc.widthOfString(h), ...body.map((r) => doc.widthOfString(r[i] ?? ''))) + 8,
    ),
  );
  const total = natural.reduce((a, b) => a + b, 0);
  const widths = natural.map((w) => (w / total) * width);
  const xs = widths.map((_, i) => MARGIN + widths.slice(0, i).reduce((a, b) => a + b, 0));
  const row = (cells: string[], isHeader: boolean, rightAlign: boolean[]) => {
    ensureSpace(doc, ROW_H);
    const y = doc.y;
    if (isHeader) doc.rect(MARGIN, y, width, ROW_H).fill(HEAD_BG);
    doc
      .moveTo(MARGIN, y + ROW_H)
      .lineTo(MARGIN + width, y + ROW_H)
      .lineWidth(0.5)
      .strokeColor(GRID)
      .stroke();
    doc.fontSize(FONT_SIZE).fillColor(INK);
    for (let i = 0; i < n; i++) {
      doc.text(cells[i] ?? '', xs[i] + 3, y + 3, {
        width: widths[i] - 6,
        height: ROW_H - 2,
        ellipsis: true,
        lineBreak: false,
        align: rightAlign[i] ? 'right' : 'left',
      });
    }
    doc.x = MARGIN;
    doc.y = y + ROW_H;
  };
  const numeric = table.columns.map((c) => c.kind === 'count' || c.kind === 'number');
  row(header, true, kinds ? [] : numeric);
  if (body.length === 0) row([catalog(d.lang).k.none], false, []);
  for (const r of body) row(r, false, kinds ? [] : numeric);
  doc.moveDown(0.6);
}

/** Bytes per protocol, horizontal bars. */
function barChart(doc: Doc, d: ReportDocument): void {
  const items = d.protocols;
  if (!items.length) return;
  const h = 16 * items.length + 10;
  ensureSpace(doc, h);
  const top = doc.y;
  const labelW = 60;
  const valueW = 110;
  const barMax = usableWidth(doc) - labelW - valueW;
  const biggest = items.reduce((m, p) => (BigInt(p.bytes) > m ? BigInt(p.bytes) : m), 1n);
  items.forEach((p, i) => {
    const y = top + i * 16;
    const w = Math.max(1, Number((BigInt(p.bytes) * 10_000n) / biggest) / 10_000) * barMax;
    doc
      .fontSize(FONT_SIZE)
      .fillColor(INK)
      .text(p.protocol, MARGIN, y + 2, {
        width: labelW - 4,
        lineBreak: false,
      });
    doc.rect(MARGIN + labelW, y, Math.max(1, w), 11).fill(COLORS[i % COLORS.length]);
    doc
      .fillColor(INK)
      .text(
        `${formatNumber(d.lang, p.sharePercent)} %`,
        MARGIN + labelW + Math.max(1, w) + 4,
        y + 2,
        {
          width: valueW,
          lineBreak: false,
        },
      );
  });
  doc.x = MARGIN;
  doc.y = top + h;
}

/** Bytes over time per direction, as polylines (at most 240 points each). */
function lineChart(doc: Doc, d: ReportDocument): void {
  const t = catalog(d.lang);
  const times = [...new Set(d.series.points.map((p) => p.t))].sort();
  if (times.length < 2) return;
  const step = Math.ceil(times.length / 240);
  const bucketOf = new Map(times.map((x, i) => [x, Math.floor(i / step)]));
  const buckets = Math.ceil(times.length / step);
  const keys = [...new Set(d.series.points.map((p) => p.key))].sort();
  const values = new Map(keys.map((k) => [k, new Array<number>(buckets).fill(0)]));
  for (const p of d.series.points) values.get(p.key)![bucketOf.get(p.t)!] += Number(p.bytes);
  const peak = Math.max(1, ...[...values.values()].flat());
  const height = 120;
  ensureSpace(doc, height + 40);
  doc.fontSize(9).fillColor(INK).text(t.sections.series, MARGIN, doc.y);
  const top = doc.y + 4;
  const left = MARGIN + 50;
  const width = usableWidth(doc) - 50;
  // Axes and three grid lines, labelled with the byte count they stand for.
  doc.lineWidth(0.5).strokeColor(GRID);
  for (let g = 0; g <= 3; g++) {
    const y = top + height - (g / 3) * height;
    doc
      .moveTo(left, y)
      .lineTo(left + width, y)
      .stroke();
    doc
      .fontSize(6)
      .fillColor('#6b7280')
      .text(formatCount(d.lang, Math.round((peak * g) / 3)), MARGIN, y - 3, {
        width: 46,
        align: 'right',
        lineBreak: false,
      });
  }
  keys.forEach((k, ki) => {
    const v = values.get(k)!;
    doc.lineWidth(1).strokeColor(COLORS[ki % COLORS.length]);
    v.forEach((x, i) => {
      const px = left + (buckets === 1 ? 0 : (i / (buckets - 1)) * width);
      const py = top + height - (x / peak) * height;
      if (i === 0) doc.moveTo(px, py);
      else doc.lineTo(px, py);
    });
    doc.stroke();
  });
  const y = top + height + 4;
  doc.fontSize(6).fillColor('#6b7280');
  doc.text(formatTime(times[0]), left, y, { width: 120, lineBreak: false });
  doc.text(formatTime(times[times.length - 1]), left + width - 120, y, {
    width: 120,
    align: 'right',
    lineBreak: false,
  });
  keys.forEach((k, ki) => {
    const lx = left + width / 2 - 60 + ki * 70;
    doc.rect(lx, y + 1, 8, 5).fill(COLORS[ki % COLORS.length]);
    doc.fillColor(INK).text(t.directions[k] ?? k, lx + 11, y, { width: 55, lineBreak: false });
  });
  doc.x = MARGIN;
  doc.y = y + 16;
}

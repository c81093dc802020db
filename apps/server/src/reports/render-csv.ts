// CSV: UTF-8 with a BOM, one block per table under its section title, values
// exact and unformatted (a spreadsheet does the grouping), formula cells neutralised.

import { CSV_BOM, csvRow } from '../audit/csv';
import type { ReportDocument } from './report-document';
import { catalog } from './report-i18n';
import { reportHeading, reportSections } from './report-tables';

export function renderCsv(d: ReportDocument): Buffer {
  let out = CSV_BOM + csvRow([catalog(d.lang).title]);
  for (const [k, v] of reportHeading(d)) out += csvRow([k, v]);
  for (const s of reportSections(d)) {
    out += '\r\n' + csvRow([s.title]);
    if (s.note) out += csvRow([s.note]);
    for (const t of s.tables) {
      out += csvRow(t.columns.map((c) => c.title));
      for (const r of t.rows) out += csvRow(r);
      out += '\r\n';
    }
  }
  return Buffer.from(out, 'utf8');
}

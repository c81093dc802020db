// CSV for spreadsheets an auditor opens: UTF-8 with a BOM (Excel reads Chinese
// text correctly), RFC 4180 quoting, and formula injection neutralised.

export const CSV_BOM = '\uFEFF';

/** Cells a spreadsheet would run as a formula (= + - @, and tab/CR which some treat alike). */
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  let s = String(value);
  if (FORMULA_START.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(cells: (string | number | null | undefined)[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

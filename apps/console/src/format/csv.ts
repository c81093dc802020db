// A table as CSV for Excel: UTF-8 with a BOM, CRLF line ends, stable column ids in the header
// row (never the translated labels, so a script reading the file works in both languages).

/** One CSV field: quoted when it holds a comma, a quote, or a line break. */
function field(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** The whole file's text, BOM first: `columns` are the ids, each row one value per column. */
export function toCsv(columns: readonly string[], rows: readonly (readonly string[])[]): string {
  const lines = [columns, ...rows].map((r) => r.map(field).join(','));
  return `\ufeff${lines.join('\r\n')}\r\n`;
}

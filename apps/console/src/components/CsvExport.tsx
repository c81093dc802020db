'use client';

import { useTranslations } from 'next-intl';
import { toCsv } from '../format/csv';

/**
 * "Export CSV" for a table the page already holds: the rows as shown (the same formatted
 * values), stable column ids in the header, saved by the browser without another request.
 */
export function CsvExport({
  filename,
  columns,
  rows,
  testId,
}: {
  filename: string;
  columns: readonly string[];
  rows: readonly (readonly string[])[];
  testId?: string;
}) {
  const t = useTranslations('table');
  function save() {
    const url = URL.createObjectURL(
      new Blob([toCsv(columns, rows)], { type: 'text/csv;charset=utf-8' }),
    );
    const a = document.createElement('a');
    a.href = url;
    a.download = filename;
    document.body.append(a);
    a.click();
    a.remove();
    // Revoked after the browser has started the download, not before.
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
  return (
    <button type="button" onClick={save} data-testid={testId}>
      {t('exportCsv')}
    </button>
  );
}

// The report download links of the reports page: the period, scope and language in the URL of
// the server's GET /api/v1/reports (through the console's /api), one link per format.

import type { ApiPaths, Schemas } from '../api/client';

type Query = NonNullable<ApiPaths['/api/v1/reports']['get']['parameters']['query']>;
export type ReportFormat = NonNullable<Query['format']>;
export type ReportLang = NonNullable<Query['lang']>;
/** In the order offered (the spec checks them against the server's OpenAPI document). */
export const REPORT_FORMATS: readonly ReportFormat[] = ['pdf', 'csv', 'json'];
export const REPORT_LANGS: readonly ReportLang[] = ['zh-CN', 'en'];

export interface ReportChoice {
  from: Date;
  to: Date;
  /** One host; wins over `labels` (the server takes one or the other). */
  agentId?: string;
  labels?: string;
  lang: ReportLang;
}

/** The console-relative URL that downloads the report in `format`. */
export function reportHref(c: ReportChoice, format: ReportFormat): string {
  const q = new URLSearchParams({ from: c.from.toISOString(), to: c.to.toISOString() });
  if (c.agentId) q.set('agentId', c.agentId);
  else if (c.labels) q.set('labels', c.labels);
  q.set('lang', c.lang);
  q.set('format', format);
  return `/api/v1/reports?${q.toString()}`;
}

/** The console-relative URL of a kept report's bytes. */
export function storedReportHref(id: string): string {
  return `/api/v1/reports/stored/${encodeURIComponent(id)}`;
}

/** A kept report as GET /api/v1/reports/stored lists it. */
export type StoredReport = Schemas['StoredReportView'];

/** A daily schedule as GET /api/v1/reports/schedules lists it. */
export type ReportSchedule = Schemas['ReportScheduleView'];

export const SCHEDULE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** The zone's offset from UTC at `at`, in minutes east (Asia/Shanghai: 480). */
export function utcOffsetMinutes(timeZone: string, at: Date): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  }).formatToParts(at);
  const n = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const local = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'));
  return Math.round((local - Math.floor(at.getTime() / 60_000) * 60_000) / 60_000);
}

/** When a schedule runs: its hour and its day's offset from UTC ("01:00 UTC+08:00"). */
export function scheduleTime(hour: number, offsetMinutes: number): string {
  const a = Math.abs(offsetMinutes);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(hour)}:00 UTC${offsetMinutes < 0 ? '−' : '+'}${two(Math.floor(a / 60))}:${two(a % 60)}`;
}

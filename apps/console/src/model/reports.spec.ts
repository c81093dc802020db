import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  REPORT_FORMATS,
  REPORT_LANGS,
  reportHref,
  scheduleTime,
  storedReportHref,
  utcOffsetMinutes,
} from './reports';

// The server's OpenAPI document (as the console's build read it) is the source of the choices.
const spec = JSON.parse(
  readFileSync(path.resolve(__dirname, '../api/generated/openapi.json'), 'utf8'),
) as {
  paths: Record<string, { get: { parameters: { name: string; schema: { enum?: string[] } }[] } }>;
};
const choices = (name: string) =>
  [
    ...(spec.paths['/api/v1/reports'].get.parameters.find((p) => p.name === name)?.schema.enum ??
      []),
  ].sort();

const from = new Date('2026-12-01T00:00:00Z');
const to = new Date('2026-12-02T00:00:00Z');

describe('report links', () => {
  it('offer exactly the formats and languages the server takes', () => {
    expect([...REPORT_FORMATS].sort()).toEqual(choices('format'));
    expect([...REPORT_LANGS].sort()).toEqual(choices('lang'));
  });
  it('carry the period, the language and the format', () => {
    const u = new URL(reportHref({ from, to, lang: 'en' }, 'pdf'), 'http://console');
    expect(u.pathname).toBe('/api/v1/reports');
    expect(Object.fromEntries(u.searchParams)).toEqual({
      from: '2026-12-01T00:00:00.000Z',
      to: '2026-12-02T00:00:00.000Z',
      lang: 'en',
      format: 'pdf',
    });
  });
  it('a host wins over a label selector (the server refuses both at once)', () => {
    const u = new URL(
      reportHref({ from, to, lang: 'zh-CN', agentId: 'a-1', labels: 'env=prod' }, 'csv'),
      'http://console',
    );
    expect([u.searchParams.get('agentId'), u.searchParams.has('labels')]).toEqual(['a-1', false]);
    const l = new URL(
      reportHref({ from, to, lang: 'zh-CN', labels: 'env=prod' }, 'json'),
      'http://c',
    );
    expect(l.searchParams.get('labels')).toBe('env=prod');
  });
  it('a kept report by id', () => {
    expect(storedReportHref('42')).toBe('/api/v1/reports/stored/42');
  });
});

describe('utcOffsetMinutes', () => {
  it('is minutes east of UTC, as the server’s schedules take it', () => {
    const at = new Date('2026-12-02T03:30:00Z');
    expect(utcOffsetMinutes('Asia/Shanghai', at)).toBe(480);
    expect(utcOffsetMinutes('UTC', at)).toBe(0);
    expect(utcOffsetMinutes('America/New_York', at)).toBe(-300);
    expect(utcOffsetMinutes('Asia/Kolkata', at)).toBe(330);
  });
});

describe('scheduleTime', () => {
  it('names the hour and the offset the schedule’s days start in', () => {
    expect(scheduleTime(1, 480)).toBe('01:00 UTC+08:00');
    expect(scheduleTime(23, -300)).toBe('23:00 UTC−05:00');
    expect(scheduleTime(0, 330)).toBe('00:00 UTC+05:30');
  });
});

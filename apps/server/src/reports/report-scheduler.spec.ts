import { duePeriod, ReportSchedule } from './report-scheduler.service';

const schedule = (hour: number, utcOffsetMinutes: number): ReportSchedule => ({
  name: 's',
  agentId: null,
  labels: null,
  formats: ['pdf'],
  lang: 'zh-CN',
  hour,
  utcOffsetMinutes,
  enabled: true,
  updatedBy: null,
  updatedAt: '',
});

describe('duePeriod', () => {
  it('UTC days: nothing before the hour, then the previous day', () => {
    expect(duePeriod(schedule(1, 0), new Date('2026-12-01T00:59:59Z'))).toBeNull();
    expect(duePeriod(schedule(1, 0), new Date('2026-12-01T01:00:00Z'))).toEqual({
      from: new Date('2026-11-30T00:00:00Z'),
      to: new Date('2026-12-01T00:00:00Z'),
    });
  });

  it('China Standard Time (+480): the day runs 16:00Z to 16:00Z', () => {
    // 2026-12-01 02:30 in Beijing is 2026-11-30T18:30Z: 30 November (Beijing) is reported.
    expect(duePeriod(schedule(2, 480), new Date('2026-11-30T18:30:00Z'))).toEqual({
      from: new Date('2026-11-29T16:00:00Z'),
      to: new Date('2026-11-30T16:00:00Z'),
    });
    expect(duePeriod(schedule(2, 480), new Date('2026-11-30T17:59:00Z'))).toBeNull();
  });

  it('west of UTC (-300)', () => {
    expect(duePeriod(schedule(0, -300), new Date('2026-12-01T05:00:00Z'))).toEqual({
      from: new Date('2026-11-30T05:00:00Z'),
      to: new Date('2026-12-01T05:00:00Z'),
    });
  });
});

/** The zone every timestamp and chart axis is shown in; Asia/Shanghai unless configured. */
export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** TIDEWATCH_TIME_ZONE when it names a real IANA zone, else the default. */
export function consoleTimeZone(env: Record<string, string | undefined> = process.env): string {
  const tz = env.TIDEWATCH_TIME_ZONE?.trim();
  return tz && isTimeZone(tz) ? tz : DEFAULT_TIME_ZONE;
}

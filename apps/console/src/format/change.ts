// A change between two periods, for the locale, always signed ("+25%", "−75%", "0%").

export function formatChange(locale: string, ratio: number): string {
  return new Intl.NumberFormat(locale, {
    style: 'percent',
    maximumFractionDigits: 1,
    signDisplay: 'exceptZero',
  }).format(ratio);
}

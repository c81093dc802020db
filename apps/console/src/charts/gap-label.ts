// How a chart labels its gaps ("no data") and anomalies: in the theme's warning (or alert)
// colour on the card's background, bold. ECharts' default, the area's own faint fill colour,
// left "无数据" nearly invisible.

/** A colour of the page's theme (globals.css), read where the chart is drawn: in the browser. */
export function themeColor(name: string, fallback: string): string {
  if (typeof document === 'undefined') return fallback;
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

export function gapLabelStyle() {
  return {
    color: themeColor('--warn', '#9a6700'),
    backgroundColor: themeColor('--card', '#ffffff'),
    fontWeight: 600 as const,
    fontSize: 12,
    padding: [2, 6],
    borderRadius: 3,
  };
}

// The rate chart's ECharts option, apart from the component so that its parts (the compared
// period's dashed lines in their current line's colours, the brush) are tested without a browser.
import { formatAxisTime, formatBitRate, formatDateTime } from '../format/units';
import type { SearchParams } from '../view-state/range';
import type { ChartOption } from './EChart';
import { gapLabelStyle, themeColor } from './gap-label';
import type { RateLine } from './series-data';

export interface RateChartProps {
  lines: RateLine[];
  gaps: { from: number; to: number }[];
  /** Anomalies drawn over the chart (first seen to last seen). */
  incidents?: { from: number; to: number }[];
  from: number;
  to: number;
  locale: string;
  timeZone: string;
  /** Translated names: one per line key, and the chart's own words. */
  names: Record<string, string>;
  words: { title: string; axis: string; gap: string; peak: string; incident?: string };
  /**
   * A past period drawn over the current one, dashed, its points already moved onto the current
   * axis; `names` per line key say which period it is. Its gaps stay breaks in its lines.
   */
  compare?: {
    lines: RateLine[];
    gaps: { from: number; to: number }[];
    names: Record<string, string>;
  };
  /** When given, a drag across the chart opens `path` with the dragged range, keeping `params`. */
  zoom?: { path: string; params: SearchParams };
}

// ECharts' own first colours, named so that a compared line wears its current line's colour.
const PALETTE = ['#5470c6', '#91cc75', '#fac858', '#ee6666', '#73c0de', '#3ba272'];

/** The current lines (peaks marked, gaps shaded), then the compared ones dashed; the brush if zoomable. */
export function rateChartOption(p: RateChartProps): ChartOption {
  const span = p.to - p.from;
  const gapLabel = gapLabelStyle();
  const colour = (key: string, i: number) => {
    const at = p.lines.findIndex((l) => l.key === key);
    return PALETTE[(at >= 0 ? at : p.lines.length + i) % PALETTE.length];
  };
  return {
    animation: false,
    color: PALETTE,
    // The compared period's names are longer (they carry its dates): room for a second row.
    grid: { left: 70, right: 20, top: p.compare ? 64 : 40, bottom: 50 },
    legend: { top: 8 },
    brush: p.zoom
      ? {
          xAxisIndex: 0,
          brushType: 'lineX',
          brushMode: 'single',
          transformable: false,
          brushStyle: { color: 'rgba(84,112,198,0.15)', borderColor: 'rgba(84,112,198,0.6)' },
        }
      : undefined,
    tooltip: {
      trigger: 'axis',
      valueFormatter: (v: unknown) => (typeof v === 'number' ? formatBitRate(p.locale, v) : '—'),
      axisPointer: {
        label: {
          formatter: (a: { value: number }) => formatDateTime(p.locale, p.timeZone, a.value),
        },
      },
    },
    xAxis: {
      type: 'time',
      min: p.from,
      max: p.to,
      name: p.words.axis,
      nameLocation: 'middle',
      nameGap: 30,
      axisLabel: {
        formatter: (v: number) => formatAxisTime(p.locale, p.timeZone, v, span),
        hideOverlap: true,
      },
    },
    yAxis: { type: 'value', axisLabel: { formatter: (v: number) => formatBitRate(p.locale, v) } },
    series: [
      ...p.lines.map((l, i) => ({
        type: 'line',
        name: p.names[l.key] ?? l.key,
        color: colour(l.key, i),
        data: l.points,
        showSymbol: false,
        connectNulls: false,
        sampling: 'lttb',
        markPoint: l.max
          ? {
              symbolSize: 40,
              label: { formatter: () => p.words.peak },
              data: [{ coord: [l.max.t, l.max.bitsPerSecond], name: p.words.peak }],
            }
          : undefined,
        markArea:
          i === 0 && (p.gaps.length || p.incidents?.length)
            ? {
                silent: true,
                itemStyle: { color: 'rgba(154,103,0,0.12)' },
                // The label in the theme's warning colour on the card's, bold: ECharts' default
                // (the area's own faint fill colour) left "no data" nearly invisible.
                label: { formatter: p.words.gap, position: 'insideTop', ...gapLabel },
                data: [
                  ...p.gaps.map((g) => [{ xAxis: g.from }, { xAxis: g.to }]),
                  ...(p.incidents ?? []).map((g) => [
                    {
                      xAxis: g.from,
                      itemStyle: { color: 'rgba(180,35,24,0.16)' },
                      label: {
                        formatter: p.words.incident ?? '',
                        position: 'insideBottom',
                        ...gapLabel,
                        color: themeColor('--bad', '#b42318'),
                      },
                    },
                    { xAxis: Math.max(g.to, g.from + 1) },
                  ]),
                ],
              }
            : undefined,
      })),
      ...(p.compare?.lines ?? []).map((l, i) => ({
        type: 'line',
        name: p.compare?.names[l.key] ?? l.key,
        color: colour(l.key, i),
        data: l.points,
        showSymbol: false,
        connectNulls: false,
        sampling: 'lttb',
        lineStyle: { type: 'dashed', width: 1.5, opacity: 0.85 },
      })),
    ],
  };
}

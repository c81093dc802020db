'use client';

import { useMemo } from 'react';
import { formatAxisTime, formatBitRate, formatDateTime } from '../format/units';
import { ChartOption, EChart } from './EChart';
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
}

/** Rate over time, one line per key; gaps (no windows) shaded and left empty; peaks marked. */
export function RateChart(p: RateChartProps) {
  const option = useMemo<ChartOption>(() => {
    const span = p.to - p.from;
    const gapLabel = gapLabelStyle();
    return {
      animation: false,
      grid: { left: 70, right: 20, top: 40, bottom: 50 },
      legend: { top: 8 },
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
      series: p.lines.map((l, i) => ({
        type: 'line',
        name: p.names[l.key] ?? l.key,
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
    };
  }, [p]);
  return (
    <div
      data-testid="rate-chart"
      data-gaps={JSON.stringify(p.gaps)}
      data-incidents={JSON.stringify(p.incidents ?? [])}
      data-lines={p.lines.length}
    >
      <EChart option={option} locale={p.locale} label={p.words.title} />
    </div>
  );
}

'use client';

// The one ECharts wrapper: init, setOption, resize, dispose, locale. Every chart is an option
// object built elsewhere; only this file touches the ECharts instance.
import { BarChart, LineChart } from 'echarts/charts';
import {
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  MarkPointComponent,
  TooltipComponent,
} from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';

echarts.use([
  LineChart,
  BarChart,
  GridComponent,
  LegendComponent,
  TooltipComponent,
  MarkPointComponent,
  MarkAreaComponent,
  DataZoomComponent,
  CanvasRenderer,
]);

export type ChartOption = echarts.EChartsCoreOption;

/** ECharts' own built-in locales: ZH for zh-CN, EN otherwise. */
export function echartsLocale(locale: string): 'ZH' | 'EN' {
  return locale.toLowerCase().startsWith('zh') ? 'ZH' : 'EN';
}

export function EChart({
  option,
  locale,
  label,
  className = 'chart',
  testId,
}: {
  option: ChartOption;
  locale: string;
  label: string;
  className?: string;
  testId?: string;
}) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);

  useEffect(() => {
    const node = el.current;
    if (!node) return;
    const c = echarts.init(node, null, { locale: echartsLocale(locale), renderer: 'canvas' });
    chart.current = c;
    const ro = new ResizeObserver(() => c.resize());
    ro.observe(node);
    return () => {
      ro.disconnect();
      c.dispose();
      chart.current = null;
    };
  }, [locale]);

  useEffect(() => {
    chart.current?.setOption(option, { notMerge: true });
  }, [option, locale]);

  return <div ref={el} className={className} role="img" aria-label={label} data-testid={testId} />;
}

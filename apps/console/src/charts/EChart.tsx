'use client';

// The one ECharts wrapper: init, setOption, resize, dispose, locale. Every chart is an option
// object built elsewhere; only this file touches the ECharts instance.
import { BarChart, LineChart } from 'echarts/charts';
import {
  BrushComponent,
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
  BrushComponent,
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
  onBrushX,
}: {
  option: ChartOption;
  locale: string;
  label: string;
  className?: string;
  testId?: string;
  /**
   * When given, dragging across the chart selects a stretch of the x axis (the option's
   * `brush`, type lineX) and this gets its two ends in axis values when the drag ends.
   */
  onBrushX?: (a: number, b: number) => void;
}) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  const brushed = useRef(onBrushX);
  useEffect(() => {
    brushed.current = onBrushX;
  }, [onBrushX]);

  useEffect(() => {
    const node = el.current;
    if (!node) return;
    const c = echarts.init(node, null, { locale: echartsLocale(locale), renderer: 'canvas' });
    chart.current = c;
    c.on('brushEnd', (e) => {
      const range = (e as { areas?: { coordRange?: unknown }[] }).areas?.[0]?.coordRange;
      if (Array.isArray(range) && range.length === 2) brushed.current?.(range[0], range[1]);
    });
    const ro = new ResizeObserver(() => c.resize());
    ro.observe(node);
    return () => {
      ro.disconnect();
      c.dispose();
      chart.current = null;
    };
  }, [locale]);

  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    c.setOption(option, { notMerge: true });
    // The brush draws only once its cursor is taken; a new option drops it, so take it again.
    if (onBrushX) {
      c.dispatchAction({
        type: 'takeGlobalCursor',
        key: 'brush',
        brushOption: { brushType: 'lineX', brushMode: 'single' },
      });
    }
  }, [option, locale, onBrushX]);

  return <div ref={el} className={className} role="img" aria-label={label} data-testid={testId} />;
}

'use client';

import { useCallback, useMemo } from 'react';
import { useRouter } from '../i18n/navigation';
import { brushSearch } from '../view-state/compare';
import { ChartOption, EChart } from './EChart';
import { rateChartOption, RateChartProps } from './rate-option';

export type { RateChartProps } from './rate-option';

/** Rate over time, one line per key; gaps (no windows) shaded and left empty; peaks marked. */
export function RateChart(p: RateChartProps) {
  const router = useRouter();
  const zoom = p.zoom;
  const onBrushX = useCallback(
    (a: number, b: number) => {
      const search = zoom ? brushSearch(zoom.params, a, b) : null;
      if (zoom && search) router.push(`${zoom.path}?${search}`);
    },
    [zoom, router],
  );
  const option = useMemo<ChartOption>(() => rateChartOption(p), [p]);
  return (
    <div
      data-testid="rate-chart"
      data-gaps={JSON.stringify(p.gaps)}
      data-incidents={JSON.stringify(p.incidents ?? [])}
      data-lines={p.lines.length}
      data-compare-lines={p.compare?.lines.length ?? 0}
      data-compare-gaps={JSON.stringify(p.compare?.gaps ?? [])}
    >
      <EChart
        option={option}
        locale={p.locale}
        label={p.words.title}
        onBrushX={p.zoom ? onBrushX : undefined}
      />
    </div>
  );
}

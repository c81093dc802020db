import type { ChartPoint } from '../charts/series-data';

/** A tiny inline line (SVG, no chart instance per row: 1,000 rows must stay cheap). */
export function Sparkline({
  points,
  from,
  to,
  label,
}: {
  points: ChartPoint[];
  from: number;
  to: number;
  label: string;
}) {
  const w = 140;
  const h = 28;
  const max = Math.max(1, ...points.map((p) => p[1] ?? 0));
  const x = (t: number) => ((t - from) / Math.max(1, to - from)) * w;
  const y = (v: number) => h - 2 - (v / max) * (h - 4);
  // Break the path at nulls: a gap stays a gap.
  let d = '';
  let pen = false;
  for (const [t, v] of points) {
    if (v === null) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${x(t).toFixed(1)},${y(v).toFixed(1)}`;
    pen = true;
  }
  return (
    <svg width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={label}>
      <path d={d} fill="none" stroke="currentColor" strokeWidth="1.3" />
    </svg>
  );
}

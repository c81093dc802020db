import type { ChartPoint } from '../charts/series-data';

/**
 * A tiny inline line (SVG, no chart instance per row: 1,000 rows must stay cheap). Windows that
 * arrived and counted nothing are zero traffic, not "no data": when every window in range is
 * zero, a dashed baseline runs across the middle of the box with those windows drawn on it,
 * labelled `zeroLabel`, instead of a line lost on the row's bottom edge. No window at all draws
 * nothing (no data: the row's rate says so).
 */
export function Sparkline({
  points,
  from,
  to,
  label,
  zeroLabel,
}: {
  points: ChartPoint[];
  from: number;
  to: number;
  label: string;
  zeroLabel: string;
}) {
  // The trend column is 130 px wide (globals.css .fleet-row): the line stays inside it.
  const w = 128;
  const h = 28;
  const values = points.map((p) => p[1]).filter((v): v is number => v !== null);
  const zero = values.length > 0 && values.every((v) => v === 0);
  const max = Math.max(1, ...values);
  const x = (t: number) => ((t - from) / Math.max(1, to - from)) * w;
  // All zero: a baseline in the middle of the box; else zero sits 4 px above the bottom edge.
  const y = (v: number) => (zero ? h / 2 : h - 4 - (v / max) * (h - 8));
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
  // A single window is a point: a short tick keeps it visible.
  if (values.length === 1) d += 'h2';
  return (
    <svg
      width={w}
      height={h}
      viewBox={`0 0 ${w} ${h}`}
      role="img"
      aria-label={zero ? zeroLabel : label}
      data-testid={zero ? 'sparkline-zero' : 'sparkline'}
    >
      {zero ? (
        <>
          <title>{zeroLabel}</title>
          {/* The zero baseline across the range; the windows that arrived drawn on it. */}
          <line
            x1={0}
            x2={w}
            y1={h / 2}
            y2={h / 2}
            stroke="currentColor"
            strokeWidth={1}
            strokeDasharray="4 3"
            data-testid="sparkline-baseline"
          />
        </>
      ) : null}
      <path d={d} fill="none" stroke="currentColor" strokeWidth={zero ? 2.5 : 1.3} />
    </svg>
  );
}

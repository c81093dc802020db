// Top costs of a Node --cpu-prof profile: self time by function and by where
// the code lives (a package under node_modules, node's own internals, the app).
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function place(url: string, root: string): string {
  if (!url) return '(native code: socket writes, GC, …)';
  if (url.startsWith('node:')) return 'node internals';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const rel = path.relative(root, url.replace(/^file:\/\//, ''));
  return rel.split('/').slice(0, 4).join('/');
}

/** Markdown tables of the profiles in dir: top places and top functions by self time. */
export function summarizeCpuProfile(dir: string, root: string, top = 15): string {
  const self = new Map<number, number>();
  const nodes = new Map<number, ProfileNode>();
  let totalUs = 0;
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile'))) {
    const p = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Profile;
    const base = nodes.size ? Math.max(...nodes.keys()) + 1 : 0;
    for (const n of p.nodes) nodes.set(base + n.id, n);
    p.samples.forEach((id, i) => {
      const dt = p.timeDeltas[i] ?? 0;
      self.set(base + id, (self.get(base + id) ?? 0) + dt);
      totalUs += dt;
    });
  }
  const byPlace = new Map<string, number>();
  const byFn = new Map<string, number>();
  for (const [id, us] of self) {
    const n = nodes.get(id) as ProfileNode;
    const { functionName, url, lineNumber } = n.callFrame;
    const idle = functionName === '(idle)' || functionName === '(program)';
    const where = idle ? `(${functionName.replace(/[()]/g, '')})` : place(url, root);
    byPlace.set(where, (byPlace.get(where) ?? 0) + us);
    const fn = `${functionName || '(anonymous)'} ${url ? `${place(url, root)}:${lineNumber + 1}` : ''}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + us);
  }
  const table = (title: string, m: Map<string, number>) => [
    `| ${title} | self ms | share |`,
    '| --- | --- | --- |',
    ...[...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(
        ([k, us]) =>
          `| ${k} | ${(us / 1000).toFixed(0)} | ${((100 * us) / totalUs).toFixed(1)} % |`,
      ),
  ];
  return `${[
    `server CPU profile: ${(totalUs / 1e6).toFixed(1)} s sampled`,
    ...table('where', byPlace),
    '',
    ...table('function', byFn),
  ].join('\n')}\n`;
}

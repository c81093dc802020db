import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { catalogs } from '.';

type Tree = { [k: string]: string | Tree };

function leaves(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out.set(key, v);
    else for (const [kk, vv] of leaves(v, key)) out.set(kk, vv);
  }
  return out;
}

const args = (msg: string) => [...msg.matchAll(/\{(\w+)/g)].map((m) => m[1]).sort();
const zh = leaves(catalogs['zh-CN'] as unknown as Tree);
const en = leaves(catalogs.en as unknown as Tree);

describe('message catalogs', () => {
  it('have the same keys in zh-CN and en', () => {
    expect([...en.keys()].sort()).toEqual([...zh.keys()].sort());
  });
  it('have no empty message and the same placeholders in both languages', () => {
    for (const [k, v] of zh) {
      expect([k, v.trim().length > 0]).toEqual([k, true]);
      expect([k, args(en.get(k) ?? '')]).toEqual([k, args(v)]);
    }
  });
  it('have no key the source never uses', () => {
    const src = path.resolve(__dirname, '..');
    const files: string[] = [];
    const walk = (d: string) => {
      for (const f of readdirSync(d)) {
        const p = path.join(d, f);
        if (statSync(p).isDirectory()) {
          if (f !== 'generated' && f !== 'messages') walk(p);
        } else if (/\.tsx?$/.test(f) && !/\.spec\.tsx?$/.test(f)) files.push(p);
      }
    };
    walk(src);
    const code = files.map((f) => readFileSync(f, 'utf8')).join('\n');
    // A key is used when its last segment appears quoted, or (templated keys such as
    // `state.${s}`) when its parent appears with a template.
    const unused = [...zh.keys()].filter((k) => {
      const parts = k.split('.');
      const last = parts[parts.length - 1];
      const parent = parts.slice(-2, -1)[0];
      const quoted = new RegExp(`['\`"](?:[\\w.]*\\.)?${last.replace(/[-]/g, '\\-')}['\`"]`);
      const templated = parent ? new RegExp(`\`(?:[\\w.]*\\.)?${parent}\\.\\$\\{`) : null;
      return !quoted.test(code) && !(templated && templated.test(code));
    });
    expect(unused).toEqual([]);
  });
});

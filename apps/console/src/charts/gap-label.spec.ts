import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gapLabelStyle } from './gap-label';

// WCAG 2.1 contrast of the gap label against its background, in both themes of globals.css.
function luminance(hex: string): number {
  const n = parseInt(hex.replace('#', ''), 16);
  const c = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((v) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}
const contrast = (a: string, b: string) => {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
};

const css = readFileSync(path.join(__dirname, '..', 'app', '[locale]', 'globals.css'), 'utf8');
const themes = [...css.matchAll(/:root\s*\{([^}]*)\}/g)].map((m) =>
  Object.fromEntries([...m[1].matchAll(/(--[\w-]+):\s*(#[0-9a-f]{6})/gi)].map((v) => [v[1], v[2]])),
);

describe('gap labels', () => {
  it('are bold, on a background of their own, in the fallback the server render uses', () => {
    const s = gapLabelStyle();
    expect([s.color, s.backgroundColor, s.fontWeight]).toEqual(['#9a6700', '#ffffff', 600]);
  });
  it('have AA contrast (4.5:1) in the light and the dark theme', () => {
    expect(themes.length).toBe(2);
    for (const t of themes) {
      expect(contrast(t['--warn'], t['--card'])).toBeGreaterThanOrEqual(4.5);
      expect(contrast(t['--bad'], t['--card'])).toBeGreaterThanOrEqual(4.5);
    }
  });
});

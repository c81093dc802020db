import AxeBuilder from '@axe-core/playwright';
import type { Page } from 'playwright-core';

// WCAG 2.1 A and AA, as issue #11 asks: axe's rules with these tags and no others.
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
// The themes differ only in the colours of prefers-color-scheme: the light pass runs every rule,
// the dark one only the rules that read colours (a third less scan time, measured in this suite).
const THEMES = [
  ['light', null],
  ['dark', ['color-contrast', 'link-in-text-block']],
] as const;

/** Pages already scanned in this run (name, locale), so a page visited again costs nothing. */
const scanned = new Set<string>();

/**
 * The axe violations of the page as it is now, in both themes (the console follows
 * prefers-color-scheme), one line each: theme, rule id, impact, the offending nodes' targets.
 */
export async function violations(page: Page): Promise<string[]> {
  const found: string[] = [];
  for (const [colorScheme, rules] of THEMES) {
    await page.emulateMedia({ colorScheme });
    const axe = new AxeBuilder({ page });
    // Both rules are WCAG 2 A/AA ones; axe runs either a list of tags or one of rules.
    const result = await (rules ? axe.withRules([...rules]) : axe.withTags(TAGS)).analyze();
    for (const v of result.violations) {
      const targets = v.nodes.map((n) => n.target.join(' ')).join(', ');
      found.push(`${colorScheme}: ${v.id} (${v.impact ?? 'n/a'}) ${targets}`);
    }
  }
  await page.emulateMedia({ colorScheme: null });
  return found;
}

/** Fails with the violations listed when the page, named `name` in `locale`, has any. */
export async function expectAccessible(page: Page, name: string, locale: string): Promise<void> {
  const key = `${name} ${locale}`;
  if (scanned.has(key)) return;
  scanned.add(key);
  expect({ page: key, violations: await violations(page) }).toEqual({ page: key, violations: [] });
}

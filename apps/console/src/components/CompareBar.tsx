import { getTranslations } from 'next-intl/server';
import { Link } from '../i18n/navigation';
import type { Locale } from '../i18n/routing';
import { formatDateTime } from '../format/units';
import { COMPARE_OFFSETS, CompareOffset, compareSearch } from '../view-state/compare';
import type { SearchParams } from '../view-state/range';

/** The past period to compare with, as links (the URL is the state), and which period it is. */
export async function CompareBar({
  path,
  params,
  compare,
  period,
  locale,
  timeZone,
}: {
  path: string;
  params: SearchParams;
  compare: CompareOffset | null;
  /** The compared period itself (null without comparison). */
  period: { from: Date; to: Date } | null;
  locale: Locale;
  timeZone: string;
}) {
  const t = await getTranslations({ locale, namespace: 'host.compare' });
  return (
    <div>
      <nav className="toolbar" aria-label={t('label')} data-testid="compare-bar">
        <span className="muted">{t('label')}</span>
        {([null, ...COMPARE_OFFSETS] as const).map((c) => (
          <Link
            key={c ?? 'off'}
            href={`${path}?${compareSearch(params, c)}`}
            aria-current={compare === c ? 'true' : undefined}
            data-compare={c ?? 'off'}
          >
            {c ? t(`offset.${c}`) : t('off')}
          </Link>
        ))}
      </nav>
      {period ? (
        <p className="muted" data-testid="compare-period">
          {t('period', {
            from: formatDateTime(locale, timeZone, period.from),
            to: formatDateTime(locale, timeZone, period.to),
          })}
        </p>
      ) : null}
    </div>
  );
}

import { getTranslations } from 'next-intl/server';
import { Link } from '../i18n/navigation';
import type { Locale } from '../i18n/routing';
import { formatDateTime, isoInZone } from '../format/units';
import { zoomOut } from '../view-state/compare';
import {
  RANGE_PRESETS,
  rangeSearch,
  SearchParams,
  shiftRange,
  TimeRange,
} from '../view-state/range';

/** Presets, previous/next, zoom out and an absolute range, all as links and a GET form: the URL is the state. */
export async function RangeBar({
  path,
  params,
  range,
  locale,
  timeZone,
}: {
  path: string;
  params: SearchParams;
  range: TimeRange;
  locale: Locale;
  timeZone: string;
}) {
  const t = await getTranslations({ locale, namespace: 'range' });
  const prev = shiftRange(range, -1);
  const next = shiftRange(range, 1);
  const keep = Object.entries(params).filter(([k]) => !['range', 'from', 'to'].includes(k));
  return (
    <div>
      <nav className="toolbar" aria-label={t('label')}>
        {RANGE_PRESETS.map((p) => (
          <Link
            key={p}
            href={`${path}?${rangeSearch(params, { preset: p })}`}
            aria-current={range.preset === p ? 'true' : undefined}
          >
            {t(`preset.${p}`)}
          </Link>
        ))}
        <Link href={`${path}?${rangeSearch(params, prev)}`} rel="prev">
          {t('previous')}
        </Link>
        <Link href={`${path}?${rangeSearch(params, next)}`} rel="next">
          {t('next')}
        </Link>
        <Link
          href={`${path}?${rangeSearch(params, zoomOut(range, new Date()))}`}
          data-testid="zoom-out"
        >
          {t('zoomOut')}
        </Link>
      </nav>
      <form className="toolbar" method="get" aria-label={t('absolute')}>
        {keep.map(([k, v]) =>
          typeof v === 'string' ? <input key={k} type="hidden" name={k} value={v} /> : null,
        )}
        <label htmlFor="from">{t('from')}</label>
        <input id="from" name="from" defaultValue={isoInZone(range.from, timeZone)} size={26} />
        <label htmlFor="to">{t('to')}</label>
        <input id="to" name="to" defaultValue={isoInZone(range.to, timeZone)} size={26} />
        <button type="submit">{t('apply')}</button>
      </form>
      <p className="muted" data-testid="range-shown">
        {t('shown', {
          from: formatDateTime(locale, timeZone, range.from),
          to: formatDateTime(locale, timeZone, range.to),
        })}
      </p>
    </div>
  );
}

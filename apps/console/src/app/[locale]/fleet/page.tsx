import { pageLocale } from '../../../i18n/page-locale';
import { getTimeZone, getTranslations, setRequestLocale } from 'next-intl/server';
import { isApiError, Schemas, specInteger } from '../../../api/client';
import { ApiProblem } from '../../../components/ApiProblem';
import { currentUser, serverApi } from '../../../api/server-api';
import { FleetHost, FleetList } from '../../../components/FleetList';
import { RangeHidden } from '../../../components/FormFields';
import { LiveRefresh } from '../../../live/LiveRefresh';
import { ProtocolMix } from '../../../components/ProtocolMix';
import { RankedHost, WorstHosts } from '../../../components/WorstHosts';
import { mayCall } from '../../../model/roles';
import { RangeBar } from '../../../components/RangeBar';
import { formatBitRate, formatBytes, formatCount } from '../../../format/units';
import { hostState, HostState, labelChoices, validSelector } from '../../../model/host-state';
import { first, parseRange, rangeSearch, SearchParams, toSearch } from '../../../view-state/range';

export const dynamic = 'force-dynamic';

const PROTOCOLS = ['tcp', 'udp', 'icmp', 'icmpv6', 'other'] as const;
/** How many hosts each worst-N list shows. */
const WORST_N = 5;

export default async function FleetPage({
  params,
  searchParams,
}: {
  params: Promise<{ locale: string }>;
  searchParams: Promise<SearchParams>;
}) {
  const locale = await pageLocale(params);
  setRequestLocale(locale);
  const sp = await searchParams;
  const t = await getTranslations({ locale, namespace: 'fleet' });
  const tc = await getTranslations({ locale, namespace: 'common' });
  const timeZone = await getTimeZone();
  const selector = validSelector(first(sp, 'selector'));
  const stateFilter = first(sp, 'state') as HostState | undefined;
  const range = parseRange(sp, new Date(), '15m');
  const { client, call } = await serverApi(locale, `/${locale}/fleet${toSearch(sp)}`);
  const me = await currentUser();
  const from = range.from.toISOString();
  const to = range.to.toISOString();

  // Every host (the server pages by 500), the fleet's totals for the range.
  async function load() {
    const hosts: Schemas['HostView'][] = [];
    for (let offset = 0; ;) {
      const page = await call('/api/v1/hosts', () =>
        client.GET('/api/v1/hosts', {
          params: { query: { selector, limit: specInteger(500), offset: specInteger(offset) } },
        }),
      );
      hosts.push(...page.items);
      offset += page.items.length;
      if (page.items.length === 0 || offset >= page.total) break;
    }
    const [summary, rates] = await Promise.all([
      call('/api/v1/traffic/summary', () =>
        client.GET('/api/v1/traffic/summary', { params: { query: { selector, from, to } } }),
      ),
      call('/api/v1/traffic/rates', () =>
        client.GET('/api/v1/traffic/rates', { params: { query: { selector, from, to } } }),
      ),
    ]);
    // The worst N: the server ranks the hosts (traffic and TCP sums, anomaly counts).
    const ranked = (by: 'bytes' | 'failed') =>
      mayCall(me?.role, 'GET /api/v1/traffic/hosts')
        ? call('/api/v1/traffic/hosts', () =>
            client.GET('/api/v1/traffic/hosts', {
              params: { query: { by, selector, from, to, limit: WORST_N } },
            }),
          ).then((r) => r.items)
        : Promise.resolve(null);
    const [byBytes, byFailed, byAnomalies] = await Promise.all([
      ranked('bytes'),
      ranked('failed'),
      mayCall(me?.role, 'GET /api/v1/anomalies/hosts')
        ? call('/api/v1/anomalies/hosts', () =>
            client.GET('/api/v1/anomalies/hosts', {
              params: { query: { labels: selector, from, to, limit: WORST_N } },
            }),
          ).then((r) => r.items.map((x) => ({ agentId: x.agentId, value: x.anomalies })))
        : Promise.resolve(null),
    ]);
    return { hosts, summary, rates, worst: { byBytes, byFailed, byAnomalies } };
  }
  let data: Awaited<ReturnType<typeof load>>;
  try {
    data = await load();
  } catch (err) {
    if (!isApiError(err)) throw err;
    return <ApiProblem error={err} locale={locale} />;
  }
  const { hosts, summary, rates, worst } = data;
  const hostName = new Map(hosts.map((h) => [h.agentId, h.hostname]));
  const named = (items: { agentId: string; value: string | number }[]): RankedHost[] =>
    items.map((x) => ({ ...x, hostname: hostName.get(x.agentId) ?? x.agentId }));
  // The host's page over the same range (a preset stays a preset).
  const hostHref = (agentId: string) =>
    `/hosts/${agentId}?${rangeSearch({}, range.preset ? { preset: range.preset } : { from: range.from, to: range.to })}`;
  const all: FleetHost[] = hosts.map((h) => ({
    agentId: h.agentId,
    hostname: h.hostname,
    state: hostState(h),
    labels: h.labels,
    lastSeenAt: h.lastSeenAt ?? null,
  }));
  const counts: Record<HostState, number> = { online: 0, silent: 0, offline: 0 };
  for (const h of all) counts[h.state] += 1;
  const shown =
    stateFilter && stateFilter in counts ? all.filter((h) => h.state === stateFilter) : all;
  const choices = labelChoices(hosts);
  const rate = (d: string) => rates.items.find((i) => i.direction === d);
  const protocolNames = Object.fromEntries(PROTOCOLS.map((p) => [p, tc(`protocol.${p}`)]));

  return (
    <>
      <h1>{t('title')}</h1>
      <LiveRefresh
        room="fleet"
        range={{ from: range.from.getTime(), to: range.to.getTime(), live: !!range.preset }}
        on={['batch']}
        minIntervalMs={5000}
      />
      <form className="toolbar" method="get" role="search" aria-label={t('filter')}>
        <label htmlFor="selector">{t('labelFilter')}</label>
        <input
          id="selector"
          name="selector"
          list="label-choices"
          defaultValue={selector ?? ''}
          placeholder="env=prod"
        />
        <datalist id="label-choices">
          {choices.map((c) => (
            <option key={c} value={c} />
          ))}
        </datalist>
        <label htmlFor="state">{t('col.status')}</label>
        <select id="state" name="state" defaultValue={stateFilter ?? ''}>
          <option value="">{t('allStates')}</option>
          {(['online', 'silent', 'offline'] as const).map((s) => (
            <option key={s} value={s}>
              {t(`state.${s}`)}
            </option>
          ))}
        </select>
        <RangeHidden range={range} />
        <button type="submit">{t('apply')}</button>
      </form>
      <RangeBar path="/fleet" params={sp} range={range} locale={locale} timeZone={timeZone} />
      <section className="cards" aria-label={t('totals')}>
        <div className="card">
          <div className="label">{t('hosts')}</div>
          <div className="value" data-testid="fleet-hosts">
            {formatCount(locale, all.length)}
          </div>
          <div className="sub">
            {t('stateCounts', {
              online: counts.online,
              silent: counts.silent,
              offline: counts.offline,
            })}
          </div>
        </div>
        <div className="card">
          <div className="label">{t('bytes')}</div>
          <div className="value" data-testid="fleet-bytes">
            {formatCount(locale, summary.total.bytes)}
          </div>
          <div className="sub">{formatBytes(locale, summary.total.bytes)}</div>
        </div>
        <div className="card">
          <div className="label">{t('packets')}</div>
          <div className="value" data-testid="fleet-packets">
            {formatCount(locale, summary.total.packets)}
          </div>
        </div>
        {(['ingress', 'egress'] as const).map((d) => (
          <div className="card" key={d}>
            <div className="label">{tc(`direction.${d}`)}</div>
            <div className="value" data-testid={`fleet-avg-${d}`}>
              {formatBitRate(locale, rate(d)?.avgBitsPerSecond ?? 0)}
            </div>
            <div className="sub">
              {t('peak', { rate: formatBitRate(locale, rate(d)?.peakBitsPerSecond ?? 0) })}
            </div>
          </div>
        ))}
      </section>
      <h2>{t('protocolMix')}</h2>
      {summary.items.length ? (
        <ProtocolMix
          items={summary.items}
          locale={locale}
          words={{
            caption: t('protocolMixCaption'),
            protocol: tc('protocolCol'),
            packets: tc('packets'),
            bytes: tc('bytes'),
            share: tc('share'),
            names: protocolNames,
          }}
        />
      ) : (
        <p className="banner notice">{t('noTraffic')}</p>
      )}
      <h2>{t('worst.title', { n: WORST_N })}</h2>
      <div className="cards worst">
        {(
          [
            ['bytes', worst.byBytes, true],
            ['failed', worst.byFailed, false],
            ['anomalies', worst.byAnomalies, false],
          ] as const
        ).map(([k, items, bytes]) =>
          items ? (
            <WorstHosts
              key={k}
              title={t(`worst.${k}`)}
              hostLabel={t('col.host')}
              valueLabel={t(`worst.${k}Value`)}
              items={named(items)}
              bytes={bytes}
              hostHref={hostHref}
              locale={locale}
              none={t('worst.none')}
              testId={`worst-${k}`}
            />
          ) : null,
        )}
      </div>
      <h2>{t('hostsTitle', { count: shown.length })}</h2>
      {shown.length ? (
        <FleetList hosts={shown} from={from} to={to} timeZone={timeZone} />
      ) : (
        <p className="banner notice">{t('noHosts')}</p>
      )}
    </>
  );
}

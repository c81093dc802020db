import { getTimeZone, getTranslations, setRequestLocale } from 'next-intl/server';
import { notFound } from 'next/navigation';
import { ApiStatusError, isApiError, Schemas } from '../../../../../../api/client';
import { currentUser, serverApi } from '../../../../../../api/server-api';
import {
  ClearHostOverride,
  HostOverrideForm,
  MaskingForm,
} from '../../../../../../components/AgentConfigForms';
import { AgentConfigNav } from '../../../../../../components/AgentConfigNav';
import { ApiProblem } from '../../../../../../components/ApiProblem';
import { CsvExport } from '../../../../../../components/CsvExport';
import { formatCount, formatDateTime, formatPlain } from '../../../../../../format/units';
import { pageLocale } from '../../../../../../i18n/page-locale';
import {
  FIELDS,
  Field,
  originOf,
  ZERO_IS_AGENT_DEFAULT,
} from '../../../../../../model/agent-config';
import { mayCall } from '../../../../../../model/roles';

export const dynamic = 'force-dynamic';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * One host's configuration: what the server sends it, the layer every field comes from, its
 * own override (the system administrator's; its masking the security administrator's), and
 * what the agent runs and answered.
 */
export default async function HostAgentConfigPage({
  params,
}: {
  params: Promise<{ locale: string; agentId: string }>;
}) {
  const locale = await pageLocale(params);
  const { agentId } = await params;
  if (!UUID.test(agentId)) notFound();
  setRequestLocale(locale);
  const t = await getTranslations({ locale, namespace: 'admin.agentConfig' });
  const timeZone = await getTimeZone();
  const me = await currentUser();
  if (!mayCall(me?.role, 'GET /api/v1/hosts/{agentId}/config')) {
    return (
      <ApiProblem
        error={new ApiStatusError(403, '/api/v1/hosts/{agentId}/config', null)}
        locale={locale}
      />
    );
  }
  const { client, call } = await serverApi(
    locale,
    `/${locale}/admin/agent-config/hosts/${agentId}`,
  );
  let state: Schemas['AgentConfigStateView'];
  try {
    state = await call('/api/v1/hosts/{agentId}/config', () =>
      client.GET('/api/v1/hosts/{agentId}/config', { params: { path: { agentId } } }),
    );
  } catch (err) {
    if (!isApiError(err)) throw err;
    return <ApiProblem error={err} locale={locale} />;
  }
  const d = state.desired;
  const own = state.override ?? null;
  const ownSettings =
    own !== null && FIELDS.some((f) => f !== 'masking' && own[f] !== null && own[f] !== undefined);
  const inheritT = t('inherited');
  const show = (f: Field, v: unknown): string => {
    if (v === null || v === undefined) return inheritT;
    if (f === 'masking') return t(`masking.mode.${v as Schemas['AgentConfigView']['masking']}`);
    if (f === 'portAllowlist')
      return (v as number[]).length ? (v as number[]).join(', ') : t('none');
    if (v === 0 && ZERO_IS_AGENT_DEFAULT.has(f)) return t('agentDefault');
    return formatPlain(locale, v as number);
  };
  const from = (f: Field) => {
    const o = originOf(d.origin[f]);
    return o.kind === 'label' ? t('origin.label', { label: o.label }) : t(`origin.${o.kind}`);
  };
  const inSync = d.version === state.runningVersion;
  const applied = state.applied;
  return (
    <>
      <h1>{t('host.title', { agentId })}</h1>
      <AgentConfigNav current="host" />
      <p data-testid="host-versions">
        {t('host.versions', {
          desired: formatCount(locale, d.version),
          running: formatCount(locale, state.runningVersion),
        })}{' '}
        <span className={`badge ${inSync ? 'online' : 'offline'}`} data-testid="host-in-sync">
          {inSync ? t('drift.inSync') : t('drift.outOfSync')}
        </span>
      </p>
      <p data-testid="host-last">
        {!applied
          ? t('drift.noAnswer')
          : applied.ok
            ? t('drift.applied', { version: formatCount(locale, applied.version) })
            : t('drift.refused', {
                version: formatCount(locale, applied.version),
                error: applied.error,
              })}
        {applied ? ` (${formatDateTime(locale, timeZone, applied.at)})` : ''}
      </p>
      <table data-testid="host-config" aria-label={t('host.table')}>
        <thead>
          <tr>
            <th scope="col">{t('col.field')}</th>
            <th scope="col">{t('host.desired')}</th>
            <th scope="col">{t('host.from')}</th>
            <th scope="col">{t('host.own')}</th>
          </tr>
        </thead>
        <tbody>
          {FIELDS.map((f) => (
            <tr key={f} data-field={f}>
              <th scope="row">{t(`field.${f}`)}</th>
              <td data-testid={`host-desired-${f}`}>{show(f, d[f])}</td>
              <td data-testid={`host-from-${f}`}>{from(f)}</td>
              <td>{show(f, own ? own[f] : null)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <CsvExport
        filename={`tidewatch-agent-config-${agentId}.csv`}
        columns={['field', 'desired', 'from', 'own']}
        rows={FIELDS.map((f) => [f, show(f, d[f]), from(f), show(f, own ? own[f] : null)])}
        testId="host-csv"
      />
      {mayCall(me?.role, 'PUT /api/v1/hosts/{agentId}/config') ? (
        <>
          <h2>{t('host.edit')}</h2>
          <p className="muted">{t('host.editIntro')}</p>
          <HostOverrideForm
            agentId={agentId}
            masking={d.masking}
            values={{
              windowSeconds: d.windowSeconds,
              topN: d.topN,
              portAllowlist: d.portAllowlist,
              maxFlowsPerWindow: d.maxFlowsPerWindow,
              cpuBudgetPercent: d.cpuBudgetPercent,
            }}
          />
          {mayCall(me?.role, 'DELETE /api/v1/hosts/{agentId}/config') ? (
            <ClearHostOverride agentId={agentId} present={ownSettings} />
          ) : null}
        </>
      ) : null}
      {mayCall(me?.role, 'PUT /api/v1/hosts/{agentId}/masking') ? (
        <MaskingForm target={{ agentId }} current={own?.masking ?? d.masking} name={agentId} />
      ) : null}
    </>
  );
}

import { getTimeZone, getTranslations, setRequestLocale } from 'next-intl/server';
import { ApiStatusError, isApiError, Schemas } from '../../../../api/client';
import { currentUser, serverApi } from '../../../../api/server-api';
import { DeleteLayer, LayerForm, MaskingForm } from '../../../../components/AgentConfigForms';
import { AgentConfigNav } from '../../../../components/AgentConfigNav';
import { ApiProblem } from '../../../../components/ApiProblem';
import { CsvExport } from '../../../../components/CsvExport';
import { formatCount, formatDateTime, formatPlain } from '../../../../format/units';
import { Link } from '../../../../i18n/navigation';
import { pageLocale } from '../../../../i18n/page-locale';
import {
  Field,
  Layer,
  LayerFields,
  NUMBER_FIELDS,
  NumberField,
  parseLayerRef,
  ZERO_IS_AGENT_DEFAULT,
} from '../../../../model/agent-config';
import { mayCall } from '../../../../model/roles';

export const dynamic = 'force-dynamic';

const fieldsOf = (l: Layer): LayerFields => ({
  windowSeconds: l.windowSeconds ?? null,
  topN: l.topN ?? null,
  portAllowlist: l.portAllowlist ?? null,
  maxFlowsPerWindow: l.maxFlowsPerWindow ?? null,
  cpuBudgetPercent: l.cpuBudgetPercent ?? null,
});

/**
 * Agent configuration layers: the fleet-wide default and the label layers (the system
 * administrator edits them, the security administrator their masking; both read). `edit=KEY=VALUE`
 * in the URL opens that label layer's form.
 */
export default async function AgentConfigPage({
  params,
  searchParams,
}: {
  params: Promise<{ locale: string }>;
  searchParams: Promise<{ edit?: string }>;
}) {
  const locale = await pageLocale(params);
  setRequestLocale(locale);
  const t = await getTranslations({ locale, namespace: 'admin.agentConfig' });
  const timeZone = await getTimeZone();
  const me = await currentUser();
  if (!mayCall(me?.role, 'GET /api/v1/agent-config/fleet')) {
    return (
      <ApiProblem
        error={new ApiStatusError(403, '/api/v1/agent-config/fleet', null)}
        locale={locale}
      />
    );
  }
  const edit = parseLayerRef((await searchParams).edit);
  const { client, call } = await serverApi(
    locale,
    `/${locale}/admin/agent-config${edit ? `?edit=${encodeURIComponent(`${edit.key}=${edit.value}`)}` : ''}`,
  );
  let fleet: Schemas['FleetConfigView'];
  let labels: Layer[];
  try {
    [fleet, labels] = await Promise.all([
      call('/api/v1/agent-config/fleet', () => client.GET('/api/v1/agent-config/fleet')),
      call('/api/v1/agent-config/labels', () => client.GET('/api/v1/agent-config/labels')).then(
        (l) => l.items,
      ),
    ]);
  } catch (err) {
    if (!isApiError(err)) throw err;
    return <ApiProblem error={err} locale={locale} />;
  }
  const editsSettings = mayCall(me?.role, 'PUT /api/v1/agent-config/fleet');
  const editsMasking = mayCall(me?.role, 'PUT /api/v1/agent-config/fleet/masking');
  const mayDelete = mayCall(me?.role, 'DELETE /api/v1/agent-config/labels/{key}/{value}');
  const inheritT = t('inherited');
  const plain = (f: NumberField, v: number) =>
    v === 0 && ZERO_IS_AGENT_DEFAULT.has(f) ? t('agentDefault') : formatPlain(locale, v);
  const num = (f: NumberField, v: number | null | undefined) =>
    v == null ? inheritT : plain(f, v);
  const ports = (v: number[] | null | undefined) =>
    v == null ? inheritT : v.length ? v.join(', ') : t('none');
  const mask = (v: Layer['masking']) => (v == null ? inheritT : t(`masking.mode.${v}`));
  const when = (v: string | null | undefined) => (v ? formatDateTime(locale, timeZone, v) : '');
  const d = fleet.defaults;
  const defaultText: Partial<Record<Field, string>> = {
    windowSeconds: formatPlain(locale, d.windowSeconds),
    topN: formatPlain(locale, d.topN),
    maxFlowsPerWindow: plain('maxFlowsPerWindow', d.maxFlowsPerWindow),
    cpuBudgetPercent: plain('cpuBudgetPercent', d.cpuBudgetPercent),
    portAllowlist: d.portAllowlist.join(', '),
  };
  const layerCells = (l: Layer) => [
    ...NUMBER_FIELDS.map((f) => num(f, l[f])),
    ports(l.portAllowlist),
    mask(l.masking),
  ];
  const editing = edit ? labels.find((l) => l.key === edit.key && l.value === edit.value) : null;
  const csvColumns = [
    'key',
    'value',
    'priority',
    ...NUMBER_FIELDS,
    'portAllowlist',
    'masking',
    'hosts',
    'version',
    'updatedAt',
  ];
  const csvRows = labels.map((l) => [
    l.key ?? '',
    l.value ?? '',
    String(l.priority),
    ...layerCells(l),
    String(l.hosts),
    String(l.version),
    when(l.updatedAt),
  ]);
  return (
    <>
      <h1>{t('title')}</h1>
      <AgentConfigNav current="layers" />
      <p className="muted">{t('intro')}</p>

      <h2>{t('fleet.title')}</h2>
      <table data-testid="fleet-layer" aria-label={t('fleet.title')}>
        <thead>
          <tr>
            <th scope="col">{t('col.field')}</th>
            <th scope="col">{t('col.default')}</th>
            <th scope="col">{t('col.fleet')}</th>
          </tr>
        </thead>
        <tbody>
          {[...NUMBER_FIELDS, 'portAllowlist' as const, 'masking' as const].map((f) => (
            <tr key={f} data-field={f}>
              <th scope="row">{t(`field.${f}`)}</th>
              <td>
                {f === 'masking'
                  ? t(`masking.mode.${d.masking}`)
                  : f === 'portAllowlist'
                    ? ports(d.portAllowlist)
                    : plain(f, d[f])}
              </td>
              <td data-testid={`fleet-${f}`}>
                {f === 'masking'
                  ? mask(fleet.layer.masking)
                  : f === 'portAllowlist'
                    ? ports(fleet.layer.portAllowlist)
                    : num(f, fleet.layer[f])}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">
        {t('fleet.summary', {
          hosts: fleet.layer.hosts,
          version: formatCount(locale, fleet.layer.version),
        })}
      </p>
      <CsvExport
        filename="tidewatch-agent-config-fleet.csv"
        columns={['field', 'default', 'fleet']}
        rows={[...NUMBER_FIELDS, 'portAllowlist' as const, 'masking' as const].map((f) => [
          f,
          f === 'masking'
            ? t(`masking.mode.${d.masking}`)
            : f === 'portAllowlist'
              ? ports(d.portAllowlist)
              : plain(f, d[f]),
          f === 'masking'
            ? mask(fleet.layer.masking)
            : f === 'portAllowlist'
              ? ports(fleet.layer.portAllowlist)
              : num(f, fleet.layer[f]),
        ])}
        testId="fleet-csv"
      />
      {editsSettings ? (
        <LayerForm label={null} values={fieldsOf(fleet.layer)} inherited={defaultText} />
      ) : null}
      {editsMasking ? (
        <MaskingForm
          target={{ scope: 'fleet' }}
          current={fleet.layer.masking ?? null}
          name={t('fleet.title')}
        />
      ) : null}

      <h2>{t('labels.title')}</h2>
      <p className="muted">{t('labels.intro')}</p>
      {labels.length ? (
        <table data-testid="label-layers" aria-label={t('labels.title')}>
          <thead>
            <tr>
              <th scope="col">{t('col.label')}</th>
              <th scope="col" className="num">
                {t('labels.priority')}
              </th>
              {NUMBER_FIELDS.map((f) => (
                <th scope="col" key={f} className="num">
                  {t(`field.${f}`)}
                </th>
              ))}
              <th scope="col">{t('field.portAllowlist')}</th>
              <th scope="col">{t('field.masking')}</th>
              <th scope="col" className="num">
                {t('col.hosts')}
              </th>
              <th scope="col">{t('col.updated')}</th>
              <th scope="col">{t('col.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {labels.map((l) => {
              const name = `${l.key}=${l.value}`;
              return (
                <tr key={name} data-layer={name}>
                  <th scope="row">{name}</th>
                  <td className="num">{formatPlain(locale, l.priority)}</td>
                  {layerCells(l).map((c, i) => (
                    <td key={i} className={i < NUMBER_FIELDS.length ? 'num' : undefined}>
                      {c}
                    </td>
                  ))}
                  <td className="num" data-testid="layer-hosts">
                    {formatCount(locale, l.hosts)}
                  </td>
                  <td>{when(l.updatedAt)}</td>
                  <td>
                    <div className="row-actions">
                      {editsSettings ? (
                        <Link
                          href={{ pathname: '/admin/agent-config', query: { edit: name } }}
                          data-testid="layer-edit"
                          aria-label={t('labels.editNamed', { label: name })}
                        >
                          {t('labels.edit')}
                        </Link>
                      ) : null}
                      {mayDelete ? (
                        <DeleteLayer labelKey={l.key ?? ''} value={l.value ?? ''} />
                      ) : null}
                      {editsMasking ? (
                        <MaskingForm
                          target={{ scope: 'label', key: l.key ?? '', value: l.value ?? '' }}
                          current={l.masking ?? null}
                          name={name}
                        />
                      ) : null}
                    </div>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : (
        <p className="banner notice" data-testid="label-layers-none">
          {t('labels.none')}
        </p>
      )}
      <CsvExport
        filename="tidewatch-agent-config-labels.csv"
        columns={csvColumns}
        rows={csvRows}
        testId="labels-csv"
      />
      {editsSettings ? (
        <>
          <h2>
            {editing
              ? t('labels.editNamed', { label: `${editing.key}=${editing.value}` })
              : t('labels.add')}
          </h2>
          {editing ? (
            <LayerForm
              key={`${editing.key}=${editing.value}`}
              label={{ key: editing.key ?? '', value: editing.value ?? '' }}
              values={fieldsOf(editing)}
              priority={editing.priority}
            />
          ) : (
            <LayerForm
              label={{}}
              values={{
                windowSeconds: null,
                topN: null,
                portAllowlist: null,
                maxFlowsPerWindow: null,
                cpuBudgetPercent: null,
              }}
            />
          )}
          {editing ? (
            <p>
              <Link href="/admin/agent-config" data-testid="layer-add-link">
                {t('labels.add')}
              </Link>
            </p>
          ) : null}
        </>
      ) : null}
    </>
  );
}

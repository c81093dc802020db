import { applicable, Layer, LayerSettings, merge, Settings } from './layers';

const DEFAULTS: Settings = {
  windowSeconds: 10,
  topN: 20,
  portAllowlist: [],
  masking: 'unspecified',
  maxFlowsPerWindow: 0,
  cpuBudgetPercent: 0,
};
const NONE: LayerSettings = {
  windowSeconds: null,
  topN: null,
  portAllowlist: null,
  masking: null,
  maxFlowsPerWindow: null,
  cpuBudgetPercent: null,
};

function layer(
  scope: Layer['scope'],
  settings: Partial<LayerSettings>,
  extra: Partial<Layer> = {},
): Layer {
  return {
    scope,
    labelKey: null,
    labelValue: null,
    agentId: null,
    priority: 0,
    version: 1,
    settings: { ...NONE, ...settings },
    updatedAt: new Date(0),
    ...extra,
  };
}

const label = (k: string, v: string, priority: number, s: Partial<LayerSettings>) =>
  layer('label', s, { labelKey: k, labelValue: v, priority });

describe('configuration layers', () => {
  const layers = [
    layer('host', { topN: 7 }, { agentId: 'h1' }),
    label('role', 'db', 20, { topN: 60, windowSeconds: 15 }),
    label('zone', 'a', 10, { topN: 40, portAllowlist: [443, 22] }),
    layer('fleet', { windowSeconds: 30, topN: 99, masking: 'truncate' }),
  ];

  it('orders fleet, matching labels by ascending priority, then the host, whatever the input order', () => {
    const names = applicable(layers, 'h1', { zone: 'a', role: 'db', other: 'x' }).map((l) =>
      l.scope === 'label' ? `${l.labelKey}=${l.labelValue}` : l.scope,
    );
    expect(names).toEqual(['fleet', 'zone=a', 'role=db', 'host']);
    expect(applicable(layers, 'h2', { zone: 'b' }).map((l) => l.scope)).toEqual(['fleet']);
  });

  it('merges field by field, nulls inherited, and names where each field came from', () => {
    expect(merge(DEFAULTS, applicable(layers, 'h2', { zone: 'a', role: 'db' }))).toEqual({
      settings: {
        windowSeconds: 15,
        topN: 60,
        portAllowlist: [22, 443],
        masking: 'truncate',
        maxFlowsPerWindow: 0,
        cpuBudgetPercent: 0,
      },
      origin: {
        windowSeconds: 'label:role=db',
        topN: 'label:role=db',
        portAllowlist: 'label:zone=a',
        masking: 'fleet',
        maxFlowsPerWindow: 'default',
        cpuBudgetPercent: 'default',
      },
    });
    expect(merge(DEFAULTS, applicable(layers, 'h1', { zone: 'a' })).settings.topN).toBe(7);
  });
});

import { layerFieldsOf, originOf, parseLayerRef, parsePorts } from './agent-config';

describe('agent configuration forms', () => {
  it('reads ports, empty as inherited, and refuses what is not a port', () => {
    expect(parsePorts('443, 22 5432')).toEqual([443, 22, 5432]);
    expect(parsePorts('  ')).toBeNull();
    expect(parsePorts('22, 70000')).toBeUndefined();
    expect(parsePorts('22, ssh')).toBeUndefined();
  });

  it('reads layer fields, empty inputs inherited, and names the first bad one', () => {
    const form: Record<string, string> = {
      windowSeconds: '30',
      topN: '',
      maxFlowsPerWindow: '5000',
      cpuBudgetPercent: '1.5',
      portAllowlist: '22',
    };
    expect(layerFieldsOf((n) => form[n] ?? '')).toEqual({
      ok: true,
      fields: {
        windowSeconds: 30,
        topN: null,
        maxFlowsPerWindow: 5000,
        cpuBudgetPercent: 1.5,
        portAllowlist: [22],
      },
    });
    expect(layerFieldsOf((n) => ({ ...form, topN: 'many' })[n] ?? '')).toEqual({
      ok: false,
      field: 'topN',
    });
  });

  it('splits origins and the layer in the URL', () => {
    expect(originOf('label:zone=a')).toEqual({ kind: 'label', label: 'zone=a' });
    expect(originOf('fleet')).toEqual({ kind: 'fleet', label: '' });
    expect(parseLayerRef('env=prod=1')).toEqual({ key: 'env', value: 'prod=1' });
    expect(parseLayerRef('=x')).toBeNull();
    expect(parseLayerRef(undefined)).toBeNull();
  });
});

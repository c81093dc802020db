import type { AgentConfig__Output } from '@tidewatch/proto';
import { loadConfig } from '../config/load';
import { createMasker } from '../masking/masker';
import { applyServerConfig } from './server-config';

const EMPTY: AgentConfig__Output = {
  version: 2,
  windowSeconds: 0,
  topN: 0,
  portAllowlist: [],
  masking: 'MASKING_UNSPECIFIED',
  maxFlowsPerWindow: 0,
  cpuBudgetPercent: 0,
};

describe('applyServerConfig', () => {
  const local = loadConfig({ flags: { 'masking.mode': 'truncate' } });
  const masker = createMasker(local.masking);

  it('applies only the fields the server set', () => {
    const r = applyServerConfig(local, masker, {
      ...EMPTY,
      windowSeconds: 30,
      portAllowlist: [22, 443],
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.windowSeconds).toBe(30);
    expect(r.config.portAllowlist).toEqual([22, 443]);
    expect(r.config.topN).toBe(local.topN);
    expect(r.masker.mode).toBe('truncate');
  });

  it('never lets the server weaken the host masking policy', () => {
    const r = applyServerConfig(local, masker, { ...EMPTY, masking: 'MASKING_NONE' });
    expect(r).toEqual({
      ok: false,
      error: expect.stringMatching(/weaker than this host's "truncate"/),
    });
  });

  it('refuses pseudonymize without a key on the host', () => {
    const r = applyServerConfig(local, masker, { ...EMPTY, masking: 'MASKING_PSEUDONYMIZE' });
    expect(r).toEqual({ ok: false, error: expect.stringMatching(/keyFile/) });
  });

  it('refuses out-of-range values', () => {
    expect(applyServerConfig(local, masker, { ...EMPTY, windowSeconds: 99999 }).ok).toBe(false);
    expect(applyServerConfig(local, masker, { ...EMPTY, portAllowlist: [0] }).ok).toBe(false);
  });
});

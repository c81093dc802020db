import { maskingName, type AgentConfig__Output } from '@tidewatch/proto';
import type { AgentConfig, MaskingModeName } from '../config/schema';
import { createMasker, type Masker } from '../masking/masker';

const STRENGTH: Record<MaskingModeName, number> = { none: 0, truncate: 1, pseudonymize: 2 };

export type ServerConfigResult =
  { ok: true; config: AgentConfig; masker: Masker } | { ok: false; error: string };

/**
 * Applies the fields the server set (zero means "not set"). The host's own
 * masking policy is a floor: the server may make masking stricter, never weaker,
 * so a compromised or misconfigured server cannot pull raw addresses.
 */
export function applyServerConfig(
  local: AgentConfig,
  masker: Masker,
  c: AgentConfig__Output,
): ServerConfigResult {
  const next: AgentConfig = {
    ...local,
    masking: { ...local.masking },
    guard: { ...local.guard },
  };
  if (c.windowSeconds > 0) {
    if (c.windowSeconds > 3600) return { ok: false, error: 'windowSeconds must be 1..3600' };
    next.windowSeconds = c.windowSeconds;
  }
  if (c.topN > 0) next.topN = Math.min(c.topN, 1000);
  if (c.portAllowlist.length > 0) {
    if (c.portAllowlist.some((p) => p < 1 || p > 65535)) {
      return { ok: false, error: 'portAllowlist entries must be 1..65535' };
    }
    next.portAllowlist = [...c.portAllowlist];
  }
  if (c.maxFlowsPerWindow > 0) next.guard.maxFlowsPerWindow = c.maxFlowsPerWindow;
  if (c.cpuBudgetPercent > 0) next.guard.cpuBudgetPercent = Math.min(100, c.cpuBudgetPercent);
  let nextMasker = masker;
  const mode = maskingName(c.masking);
  if (mode && mode !== masker.mode) {
    if (STRENGTH[mode] < STRENGTH[masker.mode]) {
      return {
        ok: false,
        error: `masking "${mode}" is weaker than this host's "${masker.mode}"; only the host can relax it`,
      };
    }
    if (mode === 'pseudonymize' && !local.masking.keyFile) {
      return { ok: false, error: 'pseudonymize needs masking.keyFile on the host' };
    }
    try {
      next.masking.mode = mode;
      nextMasker = createMasker(next.masking);
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
  }
  return { ok: true, config: next, masker: nextMasker };
}

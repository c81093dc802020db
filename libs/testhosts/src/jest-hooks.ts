import { TestNetwork } from './network';

// The jest globals, typed here so the library builds without @types/jest.
type Hook = (fn: () => Promise<void>, timeoutMs?: number) => void;
const jestGlobals = globalThis as unknown as { afterAll?: Hook; afterEach?: Hook };

/**
 * A TestNetwork removed in afterAll, also when tests failed. Call at the top
 * of a describe block (or file).
 */
export function useTestNetwork(): TestNetwork {
  const net = new TestNetwork();
  if (!jestGlobals.afterAll)
    throw new Error('useTestNetwork() must be called inside a jest test file');
  jestGlobals.afterAll(() => net.destroy(), 30_000);
  return net;
}

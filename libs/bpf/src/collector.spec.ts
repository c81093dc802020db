import { Collector } from './collector';
import { TidewatchBpfError } from './errors';

// Argument checks run before the addon is even loaded.
describe('Collector argument validation', () => {
  it.each([
    [{ flowTableSize: 0 }, 'invalid flowTableSize: must be an integer from 1 to 16777216, got 0'],
    [
      { flowTableSize: 1.5 },
      'invalid flowTableSize: must be an integer from 1 to 16777216, got 1.5',
    ],
    [{ object: 'new' }, 'invalid object: must be one of auto, legacy, modern, got "new"'],
    [{ ringBufferBytes: 5000 }, 'invalid ringBufferBytes: must be a power of two, got 5000'],
    [{ flows: 'yes' }, 'invalid flows: must be true or false, got "yes"'],
  ])('rejects %j', async (options, message) => {
    const err = await Collector.open(options as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TidewatchBpfError);
    expect(err).toMatchObject({ code: 'EINVAL', message });
  });

  it.each(['', 'x'.repeat(16), 'a b', 'a/b'])('rejects the interface name %j', async (name) => {
    await expect(Collector.cleanupStale(name)).rejects.toMatchObject({ code: 'EINVAL' });
  });
});

// How events reach listeners, on a collector with no kernel behind it: the
// poll callback is driven directly with what the addon would hand over.
describe('Collector event dispatch', () => {
  type Dispatch = (events: unknown[], lost: number, error?: Error) => void;
  function bareCollector(): Collector {
    const c = Object.create(Collector.prototype) as Collector;
    Object.assign(c, {
      listeners: new Set(),
      lostListeners: new Set(),
      errorListeners: new Set(),
      attached: new Map(),
      closed: false,
      polling: true,
      // onEvent starts polling only when it is not running: it is, here.
      addon: {},
      handle: {},
    });
    return c;
  }
  const dispatch = (c: Collector, ...args: Parameters<Dispatch>) =>
    (c as unknown as { dispatch: Dispatch }).dispatch(...args);
  const event = {
    kind: 1,
    family: 0,
    role: 0,
    timestampNs: 1n,
    durationNs: 2n,
    saddr: Buffer.from([198, 18, 0, 1, ...new Array(12).fill(0)]),
    daddr: Buffer.from([198, 18, 0, 2, ...new Array(12).fill(0)]),
    sport: 40000,
    dport: 80,
  };

  it('gives every listener every event even when one throws, then rethrows the first error', () => {
    const c = bareCollector();
    const seen: string[] = [];
    c.onEvent(() => {
      throw new Error('listener bug');
    });
    c.onEvent((e) => seen.push(`${e.saddr}:${e.sport}`));
    const ticks: (() => void)[] = [];
    const nextTick = jest.spyOn(process, 'nextTick').mockImplementation(((fn: () => void) => {
      ticks.push(fn);
    }) as never);
    try {
      dispatch(c, [event, event], 0);
    } finally {
      nextTick.mockRestore();
    }
    expect(seen).toEqual(['198.18.0.1:40000', '198.18.0.1:40000']);
    expect(ticks).toHaveLength(1);
    expect(() => ticks[0]()).toThrow('listener bug');
  });

  it('reports losses and a failed poll to their listeners', () => {
    const c = bareCollector();
    const lost: number[] = [];
    const errors: TidewatchBpfError[] = [];
    c.onEvent(
      () => undefined,
      (n) => lost.push(n),
      (err) => errors.push(err),
    );
    const failure = Object.assign(new Error('event polling stopped: bad file descriptor'), {
      code: 'EBADF',
      errno: 9,
    });
    dispatch(c, [], 3, failure);
    expect(lost).toEqual([3]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(TidewatchBpfError);
    expect(errors[0]).toMatchObject({ code: 'EBADF', errno: 9 });
  });

  it('never lets a failed poll pass silently when nobody listens for it', () => {
    const c = bareCollector();
    c.onEvent(() => undefined);
    const ticks: (() => void)[] = [];
    const nextTick = jest.spyOn(process, 'nextTick').mockImplementation(((fn: () => void) => {
      ticks.push(fn);
    }) as never);
    try {
      dispatch(c, [], 0, Object.assign(new Error('event polling stopped'), { code: 'EIO' }));
    } finally {
      nextTick.mockRestore();
    }
    expect(ticks).toHaveLength(1);
    expect(() => ticks[0]()).toThrow('event polling stopped');
  });
});

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

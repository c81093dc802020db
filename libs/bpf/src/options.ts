import { TidewatchBpfError } from './errors';
import type { CollectorOptions } from './records';
import { checkBool, checkInt, checkOneOf } from './validate';

/** Collector.open's options, checked before anything reaches the addon (one error format). */
export function checkOptions(options: CollectorOptions) {
  if (typeof options !== 'object' || options === null) {
    throw new TidewatchBpfError('invalid options: must be an object', 'EINVAL');
  }
  const object = checkOneOf('object', options.object, ['auto', 'legacy', 'modern'] as const);
  const flowTableSize = checkInt('flowTableSize', options.flowTableSize, 1, 1 << 24);
  const connTableSize = checkInt('connTableSize', options.connTableSize, 1, 1 << 24);
  const retransTableSize = checkInt('retransTableSize', options.retransTableSize, 1, 1 << 24);
  const dropTableSize = checkInt('dropTableSize', options.dropTableSize, 1, 1 << 16);
  const ringBufferBytes = checkInt('ringBufferBytes', options.ringBufferBytes, 4096, 1 << 30);
  if (ringBufferBytes !== undefined && (ringBufferBytes & (ringBufferBytes - 1)) !== 0) {
    throw new TidewatchBpfError(
      `invalid ringBufferBytes: must be a power of two, got ${ringBufferBytes}`,
      'EINVAL',
    );
  }
  const pages = checkInt('perfBufferPages', options.perfBufferPages, 1, 4096) ?? 64;
  if ((pages & (pages - 1)) !== 0) {
    throw new TidewatchBpfError(
      `invalid perfBufferPages: must be a power of two, got ${pages}`,
      'EINVAL',
    );
  }
  const flows = checkBool('flows', options.flows) ?? true;
  const events = checkBool('events', options.events) ?? true;
  const batchOps = checkBool('batchOps', options.batchOps) ?? true;
  return {
    object,
    pages,
    flows,
    events,
    flowTableSize,
    connTableSize,
    retransTableSize,
    dropTableSize,
    ringBufferBytes,
    batchOps,
  };
}

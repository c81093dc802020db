import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { TidewatchBpfError } from './errors';
import type { NativeAddon } from './native';

/** The package root: this file runs from src/ (tests) or dist/ (built). */
const PACKAGE_ROOT = resolve(__dirname, '..');

const BUILD_HINT =
  'run `npm run setup` from the repository root, or `npm run build -w @tidewatch/bpf`';

/** Which compiled BPF object: for 4.19-class kernels, or with ring buffer and batch ops. */
export type ObjectKind = 'legacy' | 'modern';

const OBJECT_FILES: Record<ObjectKind, string> = {
  legacy: 'tidewatch.bpf.o',
  modern: 'tidewatch.modern.bpf.o',
};

/** Path of the .node file; TIDEWATCH_BPF_ADDON overrides it. */
export function addonPath(): string {
  return (
    process.env.TIDEWATCH_BPF_ADDON ??
    resolve(PACKAGE_ROOT, 'native', 'build', 'Release', 'tidewatch.node')
  );
}

/** Directory of the BPF objects; TIDEWATCH_BPF_OBJECT_DIR overrides it. */
export function objectDir(): string {
  return process.env.TIDEWATCH_BPF_OBJECT_DIR ?? resolve(PACKAGE_ROOT, 'build');
}

/** Path of one BPF object, whether or not it exists. */
export function objectPath(kind: ObjectKind): string {
  return resolve(objectDir(), OBJECT_FILES[kind]);
}

/** True when the object file is there. */
export function hasObject(kind: ObjectKind): boolean {
  return existsSync(objectPath(kind));
}

/** Path of an object that must exist, or one error saying what to run. */
export function requireObject(kind: ObjectKind): string {
  const path = objectPath(kind);
  if (!existsSync(path)) {
    throw new TidewatchBpfError(`the BPF object ${path} is missing: ${BUILD_HINT}`, 'ENOENT');
  }
  return path;
}

let cached: NativeAddon | undefined;

/** The addon, loaded once; throws one message saying what to do when it cannot load. */
export function loadAddon(): NativeAddon {
  if (cached) return cached;
  const path = addonPath();
  if (!existsSync(path)) {
    throw new TidewatchBpfError(`the native addon ${path} is not built: ${BUILD_HINT}`, 'ENOENT');
  }
  try {
    // A .node file can only be loaded with require.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    cached = require(path) as NativeAddon;
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    const lib = /libbpf|libelf|libz/.test(reason)
      ? ' (install the runtime libraries: apt-get install libbpf1 libelf1 zlib1g)'
      : '';
    throw new TidewatchBpfError(
      `the native addon ${path} cannot be loaded: ${reason}${lib}; ${BUILD_HINT}`,
      'ELIBBAD',
    );
  }
  return cached;
}

/** True when loadAddon() would succeed, without throwing. */
export function addonAvailable(): boolean {
  try {
    loadAddon();
    return true;
  } catch {
    return false;
  }
}

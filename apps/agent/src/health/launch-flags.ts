/**
 * What the agent's launchers give the long-running `run`, because it cannot
 * be set from inside a running process (unlike the heap flags of
 * heap-tuning.ts): V8 reads `--jitless` once, before it starts, and glibc
 * reads MALLOC_ARENA_MAX at the process's first allocation. Every launcher
 * passes them: the bin's shebang (`env -S`), the systemd unit (docker/, which
 * the RPM installs), npm start (tools/start.js) and bench:agent.
 *
 * - --jitless: V8's interpreter only. With 10,000 flows per 10 s window the
 *   agent's JavaScript uses ~3 % of a core either way, but the optimising
 *   compilers' code, feedback and the part of the node binary they run cost
 *   ~10 MB RSS (README, bench:agent memory). It also turns WebAssembly off:
 *   nothing the agent loads needs it (protobufjs's `long` tries a WebAssembly
 *   multiply and falls back to exact JavaScript, launch-flags.spec.ts).
 * - MALLOC_ARENA_MAX=2: glibc otherwise gives each thread that allocates
 *   (V8's platform workers, libuv's pool) its own arena, kept once grown.
 */
// --no-expose-wasm only says what --jitless implies, so that V8 does not warn about it on stderr.
export const LAUNCH_NODE_FLAGS = ['--jitless', '--no-expose-wasm'];
export const LAUNCH_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

/** The launch settings this process lacks (its node flags and NODE_OPTIONS, its environment). */
export function missingLaunchSettings(
  execArgv: readonly string[] = process.execArgv,
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  const given = new Set([...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)]);
  return [
    ...LAUNCH_NODE_FLAGS.filter((f) => !given.has(f)),
    ...Object.entries(LAUNCH_ENV)
      // An operator's own value (MALLOC_ARENA_MAX=1) is a choice, not a missing setting.
      .filter(([k]) => env[k] === undefined)
      .map(([k, v]) => `${k}=${v}`),
  ];
}

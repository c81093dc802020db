#!/usr/bin/env node
// Builds the RPM of the agent or the server from a built checkout (`npm run setup` or
// `npm run build` first):  node deploy/rpm/build.js agent|server [--out DIR]
// It stages what the app runs (its bin/ and dist/, the libs it uses, and exactly the
// node_modules its production dependencies resolve to, walked the way Node resolves them)
// under opt/tidewatch/<app>/ in the repo's own layout, and runs rpmbuild on
// deploy/rpm/tidewatch-<app>.spec with that stage (tw_stage). Prints the path of each .rpm.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');

// What each package holds besides node_modules: paths relative to the repo root.
const APPS = {
  agent: {
    workspace: 'apps/agent',
    files: [
      'apps/agent/package.json',
      'apps/agent/README.md',
      'apps/agent/bin',
      'apps/agent/dist',
      'libs/bpf/package.json',
      'libs/bpf/dist',
      'libs/bpf/build',
      'libs/bpf/native/build/Release/tidewatch.node',
      'libs/proto/package.json',
      'libs/proto/dist',
      'libs/proto/proto',
    ],
    sources: [
      'docker/tidewatch-agent.service',
      'docker/tidewatch-agent.kernel-lt-5.8.conf',
      'deploy/rpm/agent.yaml',
    ],
  },
  server: {
    workspace: 'apps/server',
    files: [
      'apps/server/package.json',
      'apps/server/README.md',
      'apps/server/bin',
      'apps/server/dist',
      'libs/proto/package.json',
      'libs/proto/dist',
      'libs/proto/proto',
    ],
    sources: ['docker/tidewatch-server.service', 'deploy/rpm/server.env'],
  },
};

/** The directory `name` resolves to from `fromDir`, as Node looks it up (node_modules upwards). */
function resolvePackage(name, fromDir) {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === ROOT || dir === path.dirname(dir)) return null;
  }
}

/**
 * Every package directory the workspace needs at run time: its dependencies and theirs,
 * optional ones where installed. Workspace packages (symlinks) are followed to their real
 * directory, whose own dependencies count too.
 */
function runtimeClosure(workspaceDir) {
  const seen = new Map(); // real directory -> path under the repo it was found at
  const queue = [path.join(ROOT, workspaceDir)];
  while (queue.length) {
    const dir = queue.shift();
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    const deps = { ...pkg.optionalDependencies, ...pkg.dependencies };
    for (const name of Object.keys(deps)) {
      const found = resolvePackage(name, dir);
      if (!found) {
        if (pkg.optionalDependencies && name in pkg.optionalDependencies) continue;
        throw new Error(`${name} (needed by ${pkg.name}) is not installed: run npm ci first`);
      }
      if (seen.has(found)) continue;
      seen.set(found, fs.realpathSync(found));
      queue.push(fs.realpathSync(found));
    }
  }
  return [...seen.keys()].map((p) => path.relative(ROOT, p));
}

function copy(rel, destRoot) {
  const src = path.join(ROOT, rel);
  const dest = path.join(destRoot, rel);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const st = fs.lstatSync(src);
  if (st.isSymbolicLink()) {
    // Workspace links (node_modules/@tidewatch/x -> ../../libs/x) stay relative links.
    fs.symlinkSync(fs.readlinkSync(src), dest);
    return;
  }
  // A package's own nested node_modules are copied only as far as the closure reaches them.
  fs.cpSync(src, dest, {
    recursive: true,
    filter: (s) => s === src || !path.relative(src, s).split(path.sep).includes('node_modules'),
  });
}

function build(app, outDir) {
  const spec = APPS[app];
  if (!spec) throw new Error(`usage: build.js agent|server [--out DIR] (got ${app})`);
  const version = JSON.parse(
    fs.readFileSync(path.join(ROOT, spec.workspace, 'package.json'), 'utf8'),
  ).version;
  for (const f of spec.files) {
    if (!fs.existsSync(path.join(ROOT, f)))
      throw new Error(`${f} is missing: build first (npm run build)`);
  }
  const top = fs.mkdtempSync(path.join(os.tmpdir(), `tw-rpm-${app}-`));
  try {
    const name = `tidewatch-${app}-${version}`;
    const stageRoot = path.join(top, 'stage');
    const stage = path.join(stageRoot, 'opt', 'tidewatch', app);
    fs.mkdirSync(stage, { recursive: true });
    fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(stage, 'package.json'));
    for (const f of spec.files) copy(f, stage);
    for (const m of runtimeClosure(spec.workspace)) copy(m, stage);
    const sources = path.join(top, 'SOURCES');
    fs.mkdirSync(sources);
    for (const s of spec.sources)
      fs.copyFileSync(path.join(ROOT, s), path.join(sources, path.basename(s)));
    fs.mkdirSync(outDir, { recursive: true });
    execFileSync(
      'rpmbuild',
      [
        '-bb',
        '--define',
        `_topdir ${top}`,
        '--define',
        `_sourcedir ${sources}`,
        '--define',
        `_rpmdir ${path.resolve(outDir)}`,
        '--define',
        `tw_version ${version}`,
        '--define',
        `tw_stage ${stageRoot}`,
        // gzip -3: a tenth of the time of the default -9 on this payload, a few % larger.
        '--define',
        '_binary_payload w3.gzdio',
        // No rpm database of build dependencies on a Debian build host.
        '--nodeps',
        path.join(__dirname, `tidewatch-${app}.spec`),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 },
    );
    const built = [];
    for (const arch of fs.readdirSync(outDir)) {
      const d = path.join(outDir, arch);
      if (!fs.statSync(d).isDirectory()) continue;
      for (const f of fs.readdirSync(d))
        if (f.startsWith(`${name}-`) && f.endsWith('.rpm')) built.push(path.join(d, f));
    }
    return built;
  } finally {
    fs.rmSync(top, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const [app, flag, out] = process.argv.slice(2);
  const outDir = flag === '--out' && out ? out : path.join(ROOT, 'dist', 'rpm');
  for (const f of build(app, outDir)) console.log(f);
}

module.exports = { build, runtimeClosure };

// Puts Lodestar's beacon node package, exactly @lodestar/beacon-node@1.44.0, into
// node_modules/@lodestar/beacon-node without its dependency tree.
//
// Why not a normal dependency: the full Lodestar tree (libp2p, QUIC, native BLS, ...) does not install
// here, and the tests only need its Engine API client (lib/execution/engine/http.js). The few packages
// that client imports are ordinary, locked dependencies in package.json; this script adds the one package
// npm must not resolve. It is the root package's postinstall, and the C# NodeTooling runs it again after
// `npm ci` (idempotent), so an `ignore-scripts` npmrc cannot leave a half install.
//
// Reproducibility: the tarball is fetched by npm itself (`npm pack`, so the npm cache, registry and proxy
// settings apply) and must match the registry's published sha512 integrity below, else nothing is
// unpacked and the script exits 1.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SPEC = '@lodestar/beacon-node@1.44.0';
const VERSION = '1.44.0';
// `npm view @lodestar/beacon-node@1.44.0 dist.integrity`
const INTEGRITY =
  'sha512-/RyR/lG2DUracuR0LbQHs3hBYQtUDJObvSBA9y+LN3kiUaacAxHXTL7PvJOgMtwmC/VgCPeG+9CgWNbrXTWpXw=='
const MARKER = '.engineskeleton-integrity';

const here = path.dirname(fileURLToPath(import.meta.url));
const target = path.join(here, 'node_modules', '@lodestar', 'beacon-node');

function installed() {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(target, 'package.json'), 'utf8'));
    return pkg.version === VERSION && fs.readFileSync(path.join(target, MARKER), 'utf8') === INTEGRITY;
  } catch {
    return false;
  }
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 180_000, ...options });
  if (result.error || result.status !== 0) {
    const detail = result.error?.message ?? `exit ${result.status}: ${result.stderr}`;
    throw new Error(`${command} ${args.join(' ')} failed: ${detail}`);
  }
  return result.stdout;
}

// Under `npm ci` npm tells us which npm runs us; standalone, `npm` from PATH.
function npm(args, cwd) {
  const npmCli = process.env.npm_execpath;
  return npmCli && npmCli.endsWith('.js')
    ? run(process.execPath, [npmCli, ...args], { cwd })
    : run(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { cwd, shell: process.platform === 'win32' });
}

function main() {
  if (installed()) {
    console.log(`${SPEC} already unpacked`);
    return;
  }
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'engineskeleton-lodestar-'));
  try {
    npm(['pack', SPEC, '--pack-destination', scratch, '--silent'], scratch);
    const tarball = fs.readdirSync(scratch).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack ${SPEC} produced no tarball`);
    const bytes = fs.readFileSync(path.join(scratch, tarball));
    const actual = `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
    if (actual !== INTEGRITY) {
      throw new Error(`${SPEC} integrity mismatch: expected ${INTEGRITY}, got ${actual}`);
    }
    // Unpack beside the target and rename, so an interrupted run never leaves a partial package.
    const staging = path.join(path.dirname(target), `.beacon-node-${process.pid}`);
    fs.rmSync(staging, { recursive: true, force: true });
    fs.mkdirSync(staging, { recursive: true });
    run('tar', ['-xzf', path.join(scratch, tarball), '-C', staging, '--strip-components=1']);
    fs.writeFileSync(path.join(staging, MARKER), INTEGRITY);
    fs.rmSync(target, { recursive: true, force: true });
    fs.renameSync(staging, target);
    console.log(`${SPEC} unpacked into ${path.relative(here, target)} (${INTEGRITY.slice(0, 20)}...)`);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

try {
  main();
} catch (e) {
  console.error(`install-lodestar: ${e.message}`);
  process.exit(1);
}

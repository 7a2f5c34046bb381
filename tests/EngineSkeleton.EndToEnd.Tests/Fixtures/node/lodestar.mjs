// Lodestar's Engine API client, as Lodestar's beacon node builds it: getExecutionEngineHttp() from the
// unpacked @lodestar/beacon-node@1.44.0 (see install-lodestar.mjs), with its own JsonRpcHttpClient and
// jwt-simple HS256 tokens. Nothing here reimplements the Engine API; this module only loads the package,
// gives it a logger, and records what went over the wire.
import fs from 'node:fs';

const lib = new URL('./node_modules/@lodestar/beacon-node/lib/', import.meta.url);

// The package's "exports" map does not expose lib/execution, so it is imported by file URL. The entry
// must be execution/index.js: http.js sits in an import cycle (http -> util/metadata -> execution/index
// -> engine/index -> http) that only resolves when the cycle is entered from the index.
// Cost: ~4 s on 2 cores, mostly the KZG context that engine/mock.js builds at import.
const execution = await import(new URL('execution/index.js', lib));
const types = await import(new URL('execution/engine/types.js', lib));
const utils = await import(new URL('execution/engine/utils.js', lib));

export const { ExecutionEngineHttp, ExecutionPayloadStatus, getExecutionEngineHttp } = execution;
export const { parseExecutionPayload, deserializeExecutionRequests } = types;
export const { dataToBytes, bytesToData } = utils;

const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', lib), 'utf8'));
/** What this Lodestar says about itself in engine_getClientVersionV1 (commit: first 4 bytes of gitHead). */
export const LODESTAR_VERSION = { version: pkg.version, commit: (pkg.gitHead ?? '').slice(0, 8) };

/** Lodestar's fork name for Prague (execution) = Electra (consensus). */
export const PRAGUE = 'electra';

/** Reads a 32-byte hex JWT secret file the way execution clients write it (optional 0x, whitespace). */
export function readJwtSecretHex(file) {
  const hex = fs.readFileSync(file, 'utf8').trim().replace(/^0x/i, '');
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new Error(`${file}: expected 32 bytes of hex`);
  return `0x${hex}`;
}

function makeLogger(verbose) {
  const write = (level) => (message, context, error) => {
    const parts = [`[lodestar ${level}] ${message}`];
    if (context && Object.keys(context).length > 0) parts.push(JSON.stringify(context, (_, v) => (typeof v === 'bigint' ? v.toString() : v)));
    if (error) parts.push(error.message ?? String(error));
    process.stderr.write(`${parts.join(' ')}\n`);
  };
  const quiet = () => {};
  return {
    error: write('error'),
    warn: write('warn'),
    info: verbose ? write('info') : quiet,
    verbose: verbose ? write('verbose') : quiet,
    debug: verbose ? write('debug') : quiet,
    trace: quiet,
    child: () => makeLogger(verbose),
  };
}

/**
 * Creates Lodestar's ExecutionEngineHttp for one Engine API URL.
 * Returns the engine and `wire`, the list of every {method, params, result | error} the client exchanged,
 * in order, as plain JSON (the client's own serialization; nothing re-encoded here).
 */
export function createEngine({ url, jwtSecretHex, timeoutMs = 12_000, retries = 0, verbose = false, signal }) {
  const controller = new AbortController();
  const engine = getExecutionEngineHttp(
    { mode: 'http', urls: [url], jwtSecretHex, retries, retryDelay: 500, timeout: timeoutMs, ...LODESTAR_VERSION },
    { logger: makeLogger(verbose), signal: signal ?? controller.signal, metrics: null },
  );
  const wire = [];
  // Every request of ExecutionEngineHttp ends in rpc.fetch or rpc.fetchWithRetries of its JsonRpcHttpClient;
  // wrapping the two instance methods records exactly what Lodestar sent and what it got back.
  for (const name of ['fetch', 'fetchWithRetries']) {
    const original = engine.rpc[name].bind(engine.rpc);
    engine.rpc[name] = async (payload, opts) => {
      const entry = { method: payload.method, params: structuredClone(payload.params) };
      wire.push(entry);
      try {
        entry.result = await original(payload, opts);
        return entry.result;
      } catch (e) {
        entry.error = { message: e.message, code: e.response?.error?.code, httpStatus: e.status };
        throw e;
      }
    };
  }
  return { engine, wire, close: () => controller.abort() };
}

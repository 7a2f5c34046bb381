// Starting @ethereumjs/client 0.10.5 for the fixtures, and plain JSON-RPC to its public port.
// The C# EthereumJsNode fixture starts the client with the same arguments (keep the two in step).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const CLIENT_CLI = path.join(here, 'node_modules', '@ethereumjs', 'client', 'dist', 'esm', 'bin', 'cli.js');
export const LOOPBACK_PRELOAD = path.join(here, 'loopback.mjs');

/** One JSON-RPC call over HTTP POST; throws on transport errors and on JSON-RPC errors. */
export async function jsonRpc(url, method, params = [], { timeoutMs = 10_000 } = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = await res.json();
  if (body.error) throw new Error(`${method}: ${body.error.message} (${body.error.code})`);
  return body.result;
}

/** A TCP port that was free on 127.0.0.1 a moment ago (the usual race is accepted for tests). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Arguments for the client: single node, loopback only, no discovery, engine port with JWT. */
export function clientArgs({ genesisFile, dataDir, rpcPort, enginePort, p2pPort, jwtSecretFile }) {
  return [
    '--gethGenesis', genesisFile,
    '--dataDir', dataDir,
    '--isSingleNode',
    '--discDns', 'false', '--discV4', 'false', '--maxPeers', '0',
    '--port', String(p2pPort), '--extIP', '127.0.0.1',
    '--rpc', '--rpcAddr', '127.0.0.1', '--rpcPort', String(rpcPort),
    '--rpcEngine', '--rpcEngineAddr', '127.0.0.1', '--rpcEnginePort', String(enginePort),
    '--jwtSecret', jwtSecretFile,
    // --no-logFile: "--logFile false" would be read as a file named "false" in the working directory.
    '--no-logFile', '--logLevel', 'info',
  ];
}

/**
 * Starts a fresh client in its own temp data dir and waits (bounded) until eth_chainId answers.
 * stop() sends SIGINT, waits up to 10 s, then SIGKILL.
 */
export async function startEthereumJs({ genesisFile, jwtSecretFile, startTimeoutMs = 60_000, log = () => {} }) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'engineskeleton-ethjs-'));
  const [rpcPort, enginePort, p2pPort] = [await freePort(), await freePort(), await freePort()];
  const args = ['--import', LOOPBACK_PRELOAD, CLIENT_CLI, ...clientArgs({ genesisFile, dataDir, rpcPort, enginePort, p2pPort, jwtSecretFile })];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const tail = [];
  const keep = (chunk) => {
    for (const line of chunk.toString().split('\n')) {
      if (!line) continue;
      tail.push(line);
      if (tail.length > 200) tail.shift();
      log(line);
    }
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const rpcUrl = `http://127.0.0.1:${rpcPort}`;
  const engineUrl = `http://127.0.0.1:${enginePort}`;

  async function stop() {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      const timer = new Promise((resolve) => setTimeout(resolve, 10_000, 'timeout'));
      if ((await Promise.race([exited, timer])) === 'timeout') {
        child.kill('SIGKILL');
        await exited;
      }
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  }

  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`ethereumjs exited during startup:\n${tail.join('\n')}`);
    }
    try {
      await jsonRpc(rpcUrl, 'eth_chainId', [], { timeoutMs: 1_000 });
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`ethereumjs RPC did not answer within ${startTimeoutMs} ms:\n${tail.join('\n')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return { pid: child.pid, rpcUrl, engineUrl, dataDir, stop, tail };
}

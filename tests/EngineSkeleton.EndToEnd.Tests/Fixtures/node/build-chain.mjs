#!/usr/bin/env node
// Builds a post-merge Prague chain on @ethereumjs/client, driven block by block by Lodestar's Engine API
// client, and writes what a driver needs to replay it (see README.md, "chain file").
//
//   node build-chain.mjs --out chain.json [--blocks 64] [--genesis genesis.json]
//        [--engine-url URL --rpc-url URL --jwt-secret FILE]   (an already running node; else one is started)
//        [--genesis-timestamp auto|<seconds>] [--block-time 12] [--verbose]
//
// Per block: signed legacy, EIP-2930 and EIP-1559 transactions go in through eth_sendRawTransaction
// (ethereumjs 0.10.5's tx pool rejects EIP-7702 transactions: "tx of type 4 unknown"), then
// forkchoiceUpdatedV3 with payload attributes (withdrawals, parentBeaconBlockRoot) -> getPayloadV4 ->
// newPayloadV4 -> forkchoiceUpdatedV3 on the new head.
//
// Timestamps: block n is stamped genesis + n * block-time. With the committed genesis (timestamp 0) every
// build yields the same chain, hash for hash, which is what makes it cacheable; its head lies in 1970.
// ethereumjs counts itself synchronized only while its head is less than 60 s old, and a node that must
// beacon-sync from peers stalls on an old head. Block production and in-order replay (newPayload before
// forkchoiceUpdated) are not affected; for tests where an ethereumjs node must sync a chain from peers,
// --genesis-timestamp auto stamps genesis so that the head lands on the wall clock of the build's start
// (and writes that genesis beside --out).
//
// stdout: one JSON line per block ({"block":n,...,"ms":...}) and a final {"done":true,...} line.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createCommonFromGethGenesis, Hardfork } from '@ethereumjs/common';
import {
  createAccessList2930Tx,
  createFeeMarket1559Tx,
  createLegacyTx,
} from '@ethereumjs/tx';
import {
  bytesToHex,
  hexToBytes,
  privateToAddress,
  utf8ToBytes,
} from '@ethereumjs/util';
import { keccak256 } from 'ethereum-cryptography/keccak.js';
import { jsonRpc, startEthereumJs } from './ethereumjs.mjs';
import { forkchoiceStateAt, importBlock } from './import-block.mjs';
import { PRAGUE, createEngine, readJwtSecretHex } from './lodestar.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
// performance.now() counts from process start, so this is the cost of loading Lodestar and ethereumjs.
const importsMs = Math.round(performance.now());

const { values: opt } = parseArgs({
  options: {
    out: { type: 'string' },
    blocks: { type: 'string', default: '64' },
    genesis: { type: 'string', default: path.join(here, 'genesis.json') },
    'engine-url': { type: 'string' },
    'rpc-url': { type: 'string' },
    'jwt-secret': { type: 'string' },
    'genesis-timestamp': { type: 'string' },
    'block-time': { type: 'string', default: '12' },
    verbose: { type: 'boolean', default: false },
  },
});
if (!opt.out) fail('--out FILE is required');
const blockCount = Number(opt.blocks);
if (!Number.isInteger(blockCount) || blockCount < 1) fail(`--blocks must be a positive integer, got ${opt.blocks}`);
const blockTime = Number(opt['block-time']);
const external = [opt['engine-url'], opt['rpc-url'], opt['jwt-secret']].filter(Boolean).length;
if (external !== 0 && external !== 3) fail('--engine-url, --rpc-url and --jwt-secret go together');

function fail(message) {
  process.stderr.write(`build-chain: ${message}\n`);
  process.exit(2);
}
const emit = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
const elapsed = () => Math.round(performance.now());

// Test accounts: private key i = keccak256("engineskeleton-e2e/" + i), all four funded in genesis.json.
const keys = [0, 1, 2, 3].map((i) => keccak256(utf8ToBytes(`engineskeleton-e2e/${i}`)));
const addresses = keys.map((k) => bytesToHex(privateToAddress(k)));

const genesis = JSON.parse(fs.readFileSync(opt.genesis, 'utf8'));
for (const a of addresses) {
  if (!genesis.alloc?.[a] && !genesis.alloc?.[a.slice(2)]) fail(`${opt.genesis} does not fund test account ${a}`);
}
const outDir = path.dirname(path.resolve(opt.out));
fs.mkdirSync(outDir, { recursive: true });
let genesisFile = path.resolve(opt.genesis);
if (opt['genesis-timestamp'] !== undefined) {
  const auto = opt['genesis-timestamp'] === 'auto';
  // auto: the head is stamped with the time the build starts (it takes ~0.5 s a block, less than block-time).
  const ts = auto ? Math.floor(Date.now() / 1000) - blockCount * blockTime : Number(opt['genesis-timestamp']);
  if (!Number.isSafeInteger(ts) || ts < 0) fail(`--genesis-timestamp must be auto or seconds, got ${opt['genesis-timestamp']}`);
  genesis.timestamp = `0x${ts.toString(16)}`;
  genesisFile = path.join(outDir, 'genesis.json');
  fs.writeFileSync(genesisFile, `${JSON.stringify(genesis, null, 2)}\n`);
}
const common = createCommonFromGethGenesis(genesis, { chain: 'engineskeleton-e2e' });
common.setHardfork(Hardfork.Prague);
const chainId = BigInt(genesis.config.chainId);

let node = null;
let engineUrl = opt['engine-url'];
let rpcUrl = opt['rpc-url'];
let jwtSecretFile = opt['jwt-secret'];
let jwtDir = null;
if (!engineUrl) {
  jwtDir = fs.mkdtempSync(path.join(os.tmpdir(), 'engineskeleton-jwt-'));
  jwtSecretFile = path.join(jwtDir, 'jwtsecret');
  fs.writeFileSync(jwtSecretFile, randomBytes(32).toString('hex'), { mode: 0o600 });
  node = await startEthereumJs({
    genesisFile,
    jwtSecretFile,
    log: opt.verbose ? (line) => process.stderr.write(`[ethereumjs] ${line}\n`) : () => {},
  });
  ({ engineUrl, rpcUrl } = node);
  emit({ event: 'node-started', pid: node.pid, rpcUrl, engineUrl, importsMs, ms: elapsed() });
}

const { engine, wire, close } = createEngine({
  url: engineUrl,
  jwtSecretHex: readJwtSecretHex(jwtSecretFile),
  timeoutMs: 30_000,
  verbose: opt.verbose,
});
if (node) {
  // Stopped from outside (a test's timeout): take the child node down too, never leave it orphaned.
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      close();
      node.stop().finally(() => {
        if (jwtDir) fs.rmSync(jwtDir, { recursive: true, force: true });
        process.exit(130);
      });
    });
  }
}

const nonces = [0n, 0n, 0n, 0n];
const GWEI = 1_000_000_000n;
const sink = '0x000000000000000000000000000000000000e2e0';

/** The block's transactions: one legacy, one EIP-2930, one EIP-1559, from rotating senders. */
function transactionsFor(n) {
  const txs = [];
  const from = (j) => (n + j) % 4;
  const next = (i) => nonces[i]++;
  const value = BigInt(n) * 1_000n;
  let s = from(0);
  txs.push(createLegacyTx({ nonce: next(s), gasPrice: 10n * GWEI, gasLimit: 21_000n, to: sink, value }, { common }).sign(keys[s]));
  s = from(1);
  txs.push(
    createAccessList2930Tx(
      {
        chainId, nonce: next(s), gasPrice: 10n * GWEI, gasLimit: 60_000n, to: sink, value,
        accessList: [{ address: sink, storageKeys: [bytesToHex(keccak256(utf8ToBytes(`slot-${n}`)))] }],
      },
      { common },
    ).sign(keys[s]),
  );
  s = from(2);
  txs.push(
    createFeeMarket1559Tx(
      { chainId, nonce: next(s), maxPriorityFeePerGas: GWEI, maxFeePerGas: 10n * GWEI, gasLimit: 30_000n, to: sink, value, data: utf8ToBytes(`block ${n}`) },
      { common },
    ).sign(keys[s]),
  );
  return txs;
}

const word = (label, n) => keccak256(utf8ToBytes(`${label}/${n}`));

const genesisBlock = await jsonRpc(rpcUrl, 'eth_getBlockByNumber', ['0x0', false]);
const canonical = [genesisBlock.hash];
let head = { hash: genesisBlock.hash, timestamp: Number(genesisBlock.timestamp) };
let withdrawalIndex = 0;
const blocks = [];
const timings = [];

try {
  for (let n = 1; n <= blockCount; n++) {
    const t0 = performance.now();
    const txs = transactionsFor(n);
    const txHashes = [];
    for (const tx of txs) txHashes.push(await jsonRpc(rpcUrl, 'eth_sendRawTransaction', [bytesToHex(tx.serialize())]));

    const forkchoice = forkchoiceStateAt(canonical, n - 1);
    const parentBeaconBlockRoot = word('beacon-root', n);
    const attributes = {
      timestamp: head.timestamp + blockTime,
      prevRandao: word('randao', n),
      suggestedFeeRecipient: '0x000000000000000000000000000000000000fee1',
      withdrawals: [0, 1].map((k) => ({
        index: withdrawalIndex++,
        validatorIndex: n * 2 + k,
        address: hexToBytes(addresses[(n + k) % 4]),
        amount: BigInt(1_000 * n + k), // Gwei
      })),
      parentBeaconBlockRoot,
    };
    const payloadId = await engine.notifyForkchoiceUpdate(PRAGUE, forkchoice.headBlockHash, forkchoice.safeBlockHash, forkchoice.finalizedBlockHash, attributes);
    const tFcu = performance.now();
    if (!payloadId) throw new Error(`block ${n}: forkchoiceUpdated with attributes returned no payloadId`);
    const built = await engine.getPayload(PRAGUE, payloadId);
    const tGet = performance.now();
    const payload = built.executionPayload;
    if (payload.transactions.length !== txs.length) {
      throw new Error(`block ${n}: built ${payload.transactions.length} transactions, sent ${txs.length}`);
    }
    const block = await importBlock({ engine, wire, rpcUrl, canonical, n, built, parentBeaconBlockRoot, transactionHashes: txHashes, what: `block ${n}` });
    blocks.push(block);
    const { hash } = block;
    head = { hash, timestamp: attributes.timestamp };
    const ms = Math.round(performance.now() - t0);
    timings.push(ms);
    emit({ block: n, hash, txs: txs.length, fcuMs: Math.round(tFcu - t0), getPayloadMs: Math.round(tGet - tFcu), ms });
  }

  const chain = {
    description: 'Post-merge Prague chain built on @ethereumjs/client 0.10.5 by Lodestar 1.44.0 ExecutionEngineHttp (EngineSkeleton e2e fixture)',
    fork: PRAGUE,
    chainId: Number(chainId),
    genesisFile,
    genesis,
    genesisHash: genesisBlock.hash,
    accounts: keys.map((k, i) => ({ address: addresses[i], privateKey: bytesToHex(k) })),
    blocks,
  };
  fs.writeFileSync(opt.out, `${JSON.stringify(chain, null, 1)}\n`);
  const sorted = [...timings].sort((a, b) => a - b);
  emit({
    done: true,
    out: path.resolve(opt.out),
    blocks: blocks.length,
    head: blocks.at(-1).hash,
    totalMs: elapsed(),
    blockMsMedian: sorted[Math.floor(sorted.length / 2)],
    blockMsFirst: timings[0],
    blockMsMax: sorted.at(-1),
  });
} catch (e) {
  process.stderr.write(`build-chain: ${e.stack ?? e}\n`);
  if (node) process.stderr.write(`ethereumjs log tail:\n${node.tail.slice(-40).join('\n')}\n`);
  process.exitCode = 1;
} finally {
  close();
  if (node) {
    const t = performance.now();
    await node.stop();
    emit({ event: 'node-stopped', stopMs: Math.round(performance.now() - t) });
  }
  if (jwtDir) fs.rmSync(jwtDir, { recursive: true, force: true });
}

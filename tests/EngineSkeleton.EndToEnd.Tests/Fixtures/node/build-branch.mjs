#!/usr/bin/env node
// Builds a side branch on a running @ethereumjs/client that already holds a chain from build-chain.mjs, through
// Lodestar's Engine API client: the node's head is moved back to block --fork of that chain, and --blocks new
// blocks are built on it with other contents (fee recipient, prevRandao, timestamps one second later, beacon
// roots, transactions to another address). The node ends with both branches stored and the side branch canonical.
//
//   node build-branch.mjs --chain chain.json --fork 56 --blocks 10 --out branch.json
//        --engine-url URL --rpc-url URL --jwt-secret FILE [--label b] [--verbose]
//
// How ethereumjs 0.10.5 takes it: forkchoiceUpdated to an ancestor of its head rewinds its canonical chain (its
// skeleton's forced setHead); its tx pool checks nonces against the canonical head, so the branch's transactions
// are sent only after that rewind, with the nonces the accounts had at the fork.
//
// The branch file has the chain file's format (README.md, "chain file") with only the branch's blocks; each
// block's forkchoiceState trails it by 8 and 16 blocks along the branch (the shared prefix included).
// stdout: one JSON line per block, then {"done":true,...}.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createCommonFromGethGenesis, Hardfork } from '@ethereumjs/common';
import { createFeeMarket1559Tx, createLegacyTx } from '@ethereumjs/tx';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@ethereumjs/util';
import { keccak256 } from 'ethereum-cryptography/keccak.js';
import { jsonRpc } from './ethereumjs.mjs';
import { forkchoiceStateAt, importBlock } from './import-block.mjs';
import { PRAGUE, createEngine, readJwtSecretHex } from './lodestar.mjs';

const { values: opt } = parseArgs({
  options: {
    chain: { type: 'string' },
    fork: { type: 'string' },
    blocks: { type: 'string', default: '4' },
    out: { type: 'string' },
    label: { type: 'string', default: 'b' },
    'engine-url': { type: 'string' },
    'rpc-url': { type: 'string' },
    'jwt-secret': { type: 'string' },
    'block-time': { type: 'string', default: '12' },
    verbose: { type: 'boolean', default: false },
  },
});

function fail(message) {
  process.stderr.write(`build-branch: ${message}\n`);
  process.exit(2);
}
for (const name of ['chain', 'fork', 'out', 'engine-url', 'rpc-url', 'jwt-secret']) if (!opt[name]) fail(`--${name} is required`);
const base = JSON.parse(fs.readFileSync(opt.chain, 'utf8'));
const fork = Number(opt.fork);
const blockCount = Number(opt.blocks);
if (!Number.isInteger(fork) || fork < 0 || fork > base.blocks.length) fail(`--fork must be a block of the chain (0..${base.blocks.length}), got ${opt.fork}`);
if (!Number.isInteger(blockCount) || blockCount < 1) fail(`--blocks must be a positive integer, got ${opt.blocks}`);
const blockTime = Number(opt['block-time']);
const label = opt.label;

const emit = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
const word = (what, n) => keccak256(utf8ToBytes(`${label}/${what}/${n}`));
const GWEI = 1_000_000_000n;
const sink = '0x000000000000000000000000000000000000e2e1'; // build-chain.mjs sends to ...e2e0

const common = createCommonFromGethGenesis(base.genesis, { chain: 'engineskeleton-e2e' });
common.setHardfork(Hardfork.Prague);
const chainId = BigInt(base.chainId);
const keys = base.accounts.map((a) => hexToBytes(a.privateKey));

// build-chain.mjs's block n sends one transaction from each of senders n%4, (n+1)%4 and (n+2)%4, so after the
// fork block each sender's nonce is the number of blocks 1..fork it sent from.
const nonces = [0n, 0n, 0n, 0n];
for (let n = 1; n <= fork; n++) for (let j = 0; j < 3; j++) nonces[(n + j) % 4]++;

/** Two transactions per branch block (legacy and EIP-1559) from rotating senders, to another sink than the main chain's. */
function transactionsFor(n) {
  const from = (j) => (n + j + 1) % 4;
  let s = from(0);
  const legacy = createLegacyTx({ nonce: nonces[s]++, gasPrice: 11n * GWEI, gasLimit: 21_000n, to: sink, value: 7n }, { common }).sign(keys[s]);
  s = from(1);
  const feeMarket = createFeeMarket1559Tx(
    { chainId, nonce: nonces[s]++, maxPriorityFeePerGas: 2n * GWEI, maxFeePerGas: 11n * GWEI, gasLimit: 30_000n, to: sink, value: 9n, data: utf8ToBytes(`${label} ${n}`) },
    { common },
  ).sign(keys[s]);
  return [legacy, feeMarket];
}

const { engine, wire, close } = createEngine({
  url: opt['engine-url'],
  jwtSecretHex: readJwtSecretHex(opt['jwt-secret']),
  timeoutMs: 30_000,
  verbose: opt.verbose,
});
const rpcUrl = opt['rpc-url'];
const canonical = [base.genesisHash, ...base.blocks.slice(0, fork).map((b) => b.hash)];
const forkBlock = fork === 0 ? null : base.blocks[fork - 1];
let head = { hash: canonical[fork], timestamp: forkBlock ? forkBlock.timestamp : Number(BigInt(base.genesis.timestamp ?? 0)) };
let withdrawalIndex = 2 * fork; // build-chain.mjs: two withdrawals a block
const stateAt = (n) => forkchoiceStateAt(canonical, n);
const blocks = [];
const started = performance.now();

try {
  // Rewind the node to the fork block first: its tx pool checks nonces against the canonical head.
  const rewind = stateAt(fork);
  await engine.notifyForkchoiceUpdate(PRAGUE, rewind.headBlockHash, rewind.safeBlockHash, rewind.finalizedBlockHash);
  const rewound = await jsonRpc(rpcUrl, 'eth_blockNumber', []);
  if (Number(rewound) !== fork) throw new Error(`forkchoiceUpdated to block ${fork} left the node's head at ${Number(rewound)}`);

  for (let n = fork + 1; n <= fork + blockCount; n++) {
    const t0 = performance.now();
    const txs = transactionsFor(n);
    const txHashes = [];
    for (const tx of txs) txHashes.push(await jsonRpc(rpcUrl, 'eth_sendRawTransaction', [bytesToHex(tx.serialize())]));
    const parentBeaconBlockRoot = word('beacon-root', n);
    const attributes = {
      timestamp: head.timestamp + blockTime + 1,
      prevRandao: word('randao', n),
      suggestedFeeRecipient: '0x000000000000000000000000000000000000fee2',
      withdrawals: [0, 1].map((k) => ({
        index: withdrawalIndex++,
        validatorIndex: n * 2 + k,
        address: hexToBytes(base.accounts[(n + k + 1) % 4].address),
        amount: BigInt(2_000 * n + k),
      })),
      parentBeaconBlockRoot,
    };
    const state = stateAt(n - 1);
    const payloadId = await engine.notifyForkchoiceUpdate(PRAGUE, state.headBlockHash, state.safeBlockHash, state.finalizedBlockHash, attributes);
    if (!payloadId) throw new Error(`branch block ${n}: forkchoiceUpdated with attributes returned no payloadId`);
    const built = await engine.getPayload(PRAGUE, payloadId);
    const payload = built.executionPayload;
    if (payload.transactions.length !== txs.length) throw new Error(`branch block ${n}: built ${payload.transactions.length} transactions, sent ${txs.length}`);
    const block = await importBlock({ engine, wire, rpcUrl, canonical, n, built, parentBeaconBlockRoot, transactionHashes: txHashes, what: `branch block ${n}` });
    blocks.push(block);
    const { hash } = block;
    head = { hash, timestamp: attributes.timestamp };
    emit({ block: n, hash, txs: txs.length, ms: Math.round(performance.now() - t0) });
  }

  const branch = { ...base, description: `Side branch '${label}' forked at block ${fork} of ${path.basename(opt.chain)}`, forkNumber: fork, blocks };
  fs.writeFileSync(opt.out, `${JSON.stringify(branch, null, 1)}\n`);
  emit({ done: true, out: path.resolve(opt.out), fork, blocks: blocks.length, head: blocks.at(-1).hash, totalMs: Math.round(performance.now() - started) });
} catch (e) {
  process.stderr.write(`build-branch: ${e.stack ?? e}\n`);
  process.exitCode = 1;
} finally {
  close();
}

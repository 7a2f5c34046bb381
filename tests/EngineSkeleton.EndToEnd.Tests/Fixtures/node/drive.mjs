#!/usr/bin/env node
// Replays a chain file (from build-chain.mjs) into any Engine API endpoint through Lodestar's
// ExecutionEngineHttp, the way a beacon node following that chain would: newPayloadV4 then
// forkchoiceUpdatedV3 per block. Works against ethereumjs or EngineSkeleton alike.
//
//   node drive.mjs --engine-url http://127.0.0.1:8551 --jwt-secret FILE --chain chain.json
//        [--from 1] [--to <last>] [--fcu each|last|none] [--alter N:OP:I[:rehash]]...
//        [--timeout-ms 12000] [--retries 0] [--verbose]
//
// --alter changes block N's transaction list before it is sent; OP is drop-tx, dup-tx or corrupt-tx
// (flip the last byte of transaction I). Without ":rehash" the payload keeps its recorded blockHash, which
// then no longer matches its contents; with ":rehash" the blockHash is recomputed over the altered list
// (header from the chain file, transactionsRoot replaced), so the block is well formed and only its
// execution or its transactions can show it is invalid.
//
// stdout: one JSON line per Engine API call, then {"done":true,...}. Exit code 0 whatever the endpoint
// answered; 2 for bad arguments, 1 if the driver itself failed.
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { MerklePatriciaTrie } from '@ethereumjs/mpt';
import { RLP } from '@ethereumjs/rlp';
import { bytesToHex, hexToBytes } from '@ethereumjs/util';
import { keccak256 } from 'ethereum-cryptography/keccak.js';
import {
  ExecutionPayloadStatus,
  LODESTAR_VERSION,
  PRAGUE,
  createEngine,
  dataToBytes,
  parseExecutionPayload,
  readJwtSecretHex,
} from './lodestar.mjs';

const { values: opt } = parseArgs({
  options: {
    'engine-url': { type: 'string' },
    'jwt-secret': { type: 'string' },
    chain: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    fcu: { type: 'string', default: 'each' },
    alter: { type: 'string', multiple: true, default: [] },
    'timeout-ms': { type: 'string', default: '12000' },
    retries: { type: 'string', default: '0' },
    verbose: { type: 'boolean', default: false },
  },
});

function fail(message) {
  process.stderr.write(`drive: ${message}\n`);
  process.exit(2);
}
for (const name of ['engine-url', 'jwt-secret', 'chain']) if (!opt[name]) fail(`--${name} is required`);
if (!['each', 'last', 'none'].includes(opt.fcu)) fail(`--fcu must be each, last or none, got ${opt.fcu}`);

const chain = JSON.parse(fs.readFileSync(opt.chain, 'utf8'));
const byNumber = new Map(chain.blocks.map((b) => [b.number, b]));
const from = Number(opt.from ?? chain.blocks[0].number);
const to = Number(opt.to ?? chain.blocks.at(-1).number);
if (!byNumber.has(from) || !byNumber.has(to) || from > to) fail(`--from ${from} --to ${to} outside the chain's blocks`);

const OPS = ['drop-tx', 'dup-tx', 'corrupt-tx'];
const alterations = new Map();
for (const spec of opt.alter) {
  const [n, op, index, rehash, ...rest] = spec.split(':');
  const block = byNumber.get(Number(n));
  if (!block || !OPS.includes(op) || !/^\d+$/.test(index ?? '') || (rehash !== undefined && rehash !== 'rehash') || rest.length > 0) {
    fail(`--alter ${spec}: expected N:${OPS.join('|')}:INDEX[:rehash] with N a block of the chain`);
  }
  if (Number(index) >= block.newPayload.params[0].transactions.length) fail(`--alter ${spec}: block ${n} has no transaction ${index}`);
  alterations.set(block.number, { op, index: Number(index), rehash: rehash === 'rehash', spec });
}

const emit = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
const ms = (t0) => Math.round(performance.now() - t0);

/** transactionsRoot as in the yellow paper: trie of rlp(index) -> transaction bytes. */
async function transactionsRoot(transactions) {
  const trie = new MerklePatriciaTrie();
  for (const [i, tx] of transactions.entries()) await trie.put(RLP.encode(i), hexToBytes(tx));
  return trie.root();
}

/** The block's recorded newPayloadV4 params, altered as asked (a copy; the chain file is not changed). */
async function paramsFor(block) {
  const params = structuredClone(block.newPayload.params);
  const alteration = alterations.get(block.number);
  if (!alteration) return { params, altered: null };
  const payload = params[0];
  const txs = payload.transactions;
  const { op, index } = alteration;
  if (op === 'drop-tx') txs.splice(index, 1);
  if (op === 'dup-tx') txs.splice(index + 1, 0, txs[index]);
  if (op === 'corrupt-tx') {
    const bytes = hexToBytes(txs[index]);
    bytes[bytes.length - 1] ^= 0xff;
    txs[index] = bytesToHex(bytes);
  }
  if (alteration.rehash) {
    const header = RLP.decode(hexToBytes(block.rawHeader));
    header[4] = await transactionsRoot(txs); // transactionsRoot is field 4 of the header list
    payload.blockHash = bytesToHex(keccak256(RLP.encode(header)));
  }
  return { params, altered: { ...alteration, blockHash: payload.blockHash } };
}

const { engine, wire, close } = createEngine({
  url: opt['engine-url'],
  jwtSecretHex: readJwtSecretHex(opt['jwt-secret']),
  timeoutMs: Number(opt['timeout-ms']),
  retries: Number(opt.retries),
  verbose: opt.verbose,
});
const lastWire = (method) => wire.findLast((w) => w.method === method);
const started = performance.now();
let calls = 0;

try {
  // engine_exchangeCapabilities is not called by Lodestar 1.44's ExecutionEngineHttp; it goes through the
  // same JsonRpcHttpClient (same JWT handling), with the methods this Lodestar uses for Prague.
  let t0 = performance.now();
  const capabilities = [
    'engine_newPayloadV1', 'engine_newPayloadV2', 'engine_newPayloadV3', 'engine_newPayloadV4',
    'engine_forkchoiceUpdatedV1', 'engine_forkchoiceUpdatedV2', 'engine_forkchoiceUpdatedV3',
    'engine_getPayloadV1', 'engine_getPayloadV2', 'engine_getPayloadV3', 'engine_getPayloadV4',
    'engine_getPayloadBodiesByHashV1', 'engine_getPayloadBodiesByRangeV1',
    'engine_getClientVersionV1', 'engine_getBlobsV1',
  ];
  try {
    const result = await engine.rpc.fetch({ method: 'engine_exchangeCapabilities', params: [capabilities] }, { routeId: 'exchangeCapabilities' });
    emit({ call: 'exchangeCapabilities', result, ms: ms(t0) });
  } catch (e) {
    emit({ call: 'exchangeCapabilities', error: e.message, code: lastWire('engine_exchangeCapabilities')?.error?.code ?? null, ms: ms(t0) });
  }
  calls++;

  t0 = performance.now();
  try {
    const result = await engine.getClientVersion({ code: 'LS', name: 'Lodestar', ...LODESTAR_VERSION });
    emit({ call: 'getClientVersionV1', result, ms: ms(t0) });
  } catch (e) {
    emit({ call: 'getClientVersionV1', error: e.message, code: lastWire('engine_getClientVersionV1')?.error?.code ?? null, ms: ms(t0) });
  }
  calls++;

  const proceed = new Set([ExecutionPayloadStatus.VALID, ExecutionPayloadStatus.SYNCING, ExecutionPayloadStatus.ACCEPTED]);
  for (let n = from; n <= to; n++) {
    const block = byNumber.get(n);
    const { params, altered } = await paramsFor(block);
    // Back to Lodestar's own types with Lodestar's own parser, so the request below is serialized by
    // Lodestar exactly as its beacon node would send it.
    const { executionPayload, executionRequests } = parseExecutionPayload(PRAGUE, {
      executionPayload: params[0],
      blockValue: '0x0',
      executionRequests: params[3],
    });
    const versionedHashes = params[1].map((h) => dataToBytes(h, 32));
    const parentBeaconBlockRoot = dataToBytes(params[2], 32);

    t0 = performance.now();
    const answer = await engine.notifyNewPayload(PRAGUE, executionPayload, versionedHashes, parentBeaconBlockRoot, executionRequests);
    calls++;
    const sent = lastWire('engine_newPayloadV4');
    emit({
      call: 'newPayload',
      method: sent?.method ?? null,
      block: n,
      hash: params[0].blockHash,
      status: answer.status,
      latestValidHash: answer.latestValidHash,
      validationError: answer.validationError,
      error: sent?.error?.message ?? null,
      code: sent?.error?.code ?? null,
      ...(altered ? { altered: altered.spec } : {}),
      // The params Lodestar put on the wire equal the recorded (or altered) ones: the replay is faithful.
      sameParams: JSON.stringify(sent?.params) === JSON.stringify(params),
      ms: ms(t0),
    });

    const wantFcu = opt.fcu === 'each' || (opt.fcu === 'last' && n === to);
    // Like a beacon node, never make an invalid or unanswered payload the head.
    if (!wantFcu || !proceed.has(answer.status)) continue;
    const state = { ...block.forkchoiceState, headBlockHash: params[0].blockHash };
    t0 = performance.now();
    let payloadId = null;
    let error = null;
    try {
      payloadId = await engine.notifyForkchoiceUpdate(PRAGUE, state.headBlockHash, state.safeBlockHash, state.finalizedBlockHash);
    } catch (e) {
      error = e.message;
    }
    calls++;
    const fcu = lastWire('engine_forkchoiceUpdatedV3');
    emit({
      call: 'forkchoiceUpdated',
      method: fcu?.method ?? null,
      block: n,
      head: state.headBlockHash,
      status: fcu?.result?.payloadStatus?.status ?? null,
      latestValidHash: fcu?.result?.payloadStatus?.latestValidHash ?? null,
      validationError: fcu?.result?.payloadStatus?.validationError ?? null,
      payloadId,
      error: error ?? fcu?.error?.message ?? null,
      code: fcu?.error?.code ?? null,
      ms: ms(t0),
    });
  }
  emit({ done: true, calls, from, to, ms: ms(started) });
} catch (e) {
  process.stderr.write(`drive: ${e.stack ?? e}\n`);
  process.exitCode = 1;
} finally {
  close();
}

#!/usr/bin/env node
// A third-party devp2p peer for the interop tests: RLPx + eth/68 from the published @ethereumjs/devp2p 10.0.0
// (RLPx class, ETH protocol), nothing reimplemented. It listens on 127.0.0.1, optionally dials a node, exchanges
// Hello and Status, answers GetBlockHeaders/GetBlockBodies from a chain file (--serve) and can fetch headers and
// bodies from the remote (--fetch-headers, --fetch-bodies), checking what it gets. No discovery: no DPT, no DNS.
//
//   node --import ./loopback.mjs devp2p-peer.mjs --genesis genesis.json [--chain chain.rlp|chain.json] [--head N]
//        [--genesis-hash 0x..] [--serve] [--port 0] [--key HEX] [--dial enode://..]... [--dial-retry-ms 0]
//        [--fetch-headers ORIGIN:COUNT:REVERSE[:SKIP]]... [--fetch-bodies] [--exit-when-done]
//        [--eth 68] [--max-peers 10] [--client-id S] [--request-timeout-ms 10000]
//
// stdout: one JSON object per line (README.md, "devp2p-peer.mjs"). stderr: diagnostics only.
// Exit code: 0 on SIGINT/SIGTERM or (--exit-when-done) when every fetch checked out; 1 if a fetch failed or on a
// fatal error; 2 for bad arguments.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
const emit = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
// Until the RLPx server is up a signal just ends the process; from then on stop() disconnects peers first.
let onSignal = () => {
  emit({ event: 'stopped', code: 0 });
  process.exit(0);
};
process.on('SIGINT', () => onSignal());
process.on('SIGTERM', () => onSignal());

// The packages load after the handlers (importing them takes ~1 s).
const [
  { createBlockchain },
  { Hardfork, createCommonFromGethGenesis, parseGethGenesisState },
  { DISCONNECT_REASON, DisconnectReasonNames, ETH, EthMessageCodeNames, EthMessageCodes, Peer, RLPx, genPrivateKey },
  { MerklePatriciaTrie },
  { RLP },
  { KECCAK256_RLP, bigIntToUnpaddedBytes, bytesToBigInt, bytesToHex, bytesToInt, bytesToUnprefixedHex, equalsBytes, hexToBytes, utf8ToBytes },
  { keccak256 },
] = await Promise.all([
  import('@ethereumjs/blockchain'),
  import('@ethereumjs/common'),
  import('@ethereumjs/devp2p'),
  import('@ethereumjs/mpt'),
  import('@ethereumjs/rlp'),
  import('@ethereumjs/util'),
  import('ethereum-cryptography/keccak.js'),
]);
const note = (message) => process.stderr.write(`devp2p-peer: ${message}\n`);
function usage(message) {
  process.stderr.write(`devp2p-peer: ${message}\n`);
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------------------------
// Arguments

const { values: opt } = parseArgs({
  options: {
    genesis: { type: 'string' },
    'genesis-hash': { type: 'string' },
    chain: { type: 'string' },
    head: { type: 'string' },
    serve: { type: 'boolean', default: false },
    port: { type: 'string', default: '0' },
    key: { type: 'string' },
    dial: { type: 'string', multiple: true, default: [] },
    'dial-retry-ms': { type: 'string', default: '0' },
    'fetch-headers': { type: 'string', multiple: true, default: [] },
    'fetch-bodies': { type: 'boolean', default: false },
    'exit-when-done': { type: 'boolean', default: false },
    eth: { type: 'string', default: '68' },
    'max-peers': { type: 'string', default: '10' },
    'client-id': { type: 'string' },
    'request-timeout-ms': { type: 'string', default: '10000' },
  },
});

const intArg = (name, min = 0) => {
  const v = Number(opt[name]);
  if (!Number.isInteger(v) || v < min) usage(`--${name} must be an integer >= ${min}, got ${opt[name]}`);
  return v;
};
const port = intArg('port');
const maxPeers = intArg('max-peers', 1);
const dialRetryMs = intArg('dial-retry-ms');
const requestTimeoutMs = intArg('request-timeout-ms', 1);
// eth/66+ only: from 66 on every request and answer carries a request id, which this script relies on.
const ETH_BY_VERSION = { 66: ETH.eth66, 67: ETH.eth67, 68: ETH.eth68 };
const ethVersions = opt.eth.split(',').map((s) => Number(s.trim()));
for (const v of ethVersions) {
  if (!ETH_BY_VERSION[v]) usage(`--eth: ${v} not offered (this script speaks eth/66..68; @ethereumjs/devp2p 10.0.0 has 62..68, no 69)`);
}
if (opt['fetch-bodies'] && opt['fetch-headers'].length === 0) usage('--fetch-bodies needs --fetch-headers');
if (opt['exit-when-done'] && opt['fetch-headers'].length === 0) usage('--exit-when-done needs --fetch-headers');

/** ORIGIN:COUNT:REVERSE[:SKIP]; ORIGIN a block number, a 0x block hash, or "head" (the remote's Status best hash). */
function parseFetch(spec) {
  const [origin, count, reverse, skip = '0', ...rest] = spec.split(':');
  const bad = () =>
    usage(`--fetch-headers ${spec}: expected ORIGIN:COUNT:REVERSE[:SKIP], ORIGIN a number, a 0x hash or "head", REVERSE 0/1/true/false`);
  if (rest.length > 0 || !/^\d+$/.test(count ?? '') || !/^\d+$/.test(skip) || !['0', '1', 'true', 'false'].includes(reverse)) bad();
  let o;
  if (origin === 'head') o = 'head';
  else if (/^\d+$/.test(origin)) o = BigInt(origin);
  else if (/^0x[0-9a-fA-F]{64}$/.test(origin)) o = hexToBytes(origin.toLowerCase());
  else bad();
  return { spec, origin: o, count: Number(count), reverse: reverse === '1' || reverse === 'true', skip: Number(skip) };
}
const fetches = opt['fetch-headers'].map(parseFetch);

/** enode://<128 hex>@host:port[?discport=N] ; loopback only. */
function parseEnode(enode) {
  const m = /^enode:\/\/([0-9a-fA-F]{128})@([^:/?]+):(\d+)(\?.*)?$/.exec(enode);
  if (!m) usage(`--dial ${enode}: not an enode URL`);
  let host = m[2];
  if (host === 'localhost') host = '127.0.0.1';
  if (!/^127\.\d+\.\d+\.\d+$/.test(host)) usage(`--dial ${enode}: loopback only (127.0.0.0/8), got ${m[2]}`);
  return { enode, id: hexToBytes(`0x${m[1].toLowerCase()}`), address: host, tcpPort: Number(m[3]) };
}
const dials = opt.dial.map(parseEnode);

// ---------------------------------------------------------------------------------------------------------------
// Chain data: genesis (ethereumjs computes the Common, its fork ids and the genesis block) and the chain file.

if (!opt.genesis) usage('--genesis FILE is required (geth-format genesis.json)');
const gethGenesis = JSON.parse(fs.readFileSync(opt.genesis, 'utf8'));

// @ethereumjs/common 10.0.0 throws on a blobSchedule entry for a fork it does not know ("unknown hardfork=bpo1
// specified in blobSchedule"); the matching config times (bpo1Time, ...) it ignores anyway. Drop those entries so the
// genesis parses, and say so: the fork id it then computes leaves those forks out.
const knownForks = new Set(Object.values(Hardfork));
const unknownForks = [];
if (gethGenesis.config?.blobSchedule) {
  for (const name of Object.keys(gethGenesis.config.blobSchedule)) {
    if (!knownForks.has(name)) {
      unknownForks.push(name);
      delete gethGenesis.config.blobSchedule[name];
    }
  }
}
for (const key of Object.keys(gethGenesis.config ?? {})) {
  const m = /^(.*)(Block|Time)$/.exec(key);
  if (m && typeof gethGenesis.config[key] === 'number' && !knownForkKey(key) && !unknownForks.includes(m[1])) unknownForks.push(m[1]);
}
function knownForkKey(key) {
  // the config keys ethereumjs 10.0.0 reads (common/dist/esm/utils.js parseGethParams)
  return [
    'homesteadBlock', 'daoForkBlock', 'eip150Block', 'eip155Block', 'eip158Block', 'byzantiumBlock', 'constantinopleBlock',
    'petersburgBlock', 'istanbulBlock', 'muirGlacierBlock', 'berlinBlock', 'londonBlock', 'arrowGlacierBlock',
    'grayGlacierBlock', 'mergeForkBlock', 'mergeNetsplitBlock', 'shanghaiTime', 'cancunTime', 'pragueTime', 'osakaTime', 'verkleTime',
  ].includes(key);
}
if (unknownForks.length > 0) {
  emit({
    event: 'warning',
    message: `ethereumjs does not know the forks ${unknownForks.join(', ')} of the genesis config: they are left out of its fork id `
      + '(and any blobSchedule entries for them were dropped so the genesis parses)',
  });
}

const chainName = path.parse(opt.genesis).name;
let common;
try {
  common = createCommonFromGethGenesis(gethGenesis, { chain: chainName });
} catch (err) {
  emit({ event: 'error', message: `genesis: ${err.message}` });
  process.exit(1);
}

// Genesis block: ethereumjs's own computation (a Blockchain on the genesis state, as the client builds it).
let genesisBlock = null;
try {
  const genesisState = parseGethGenesisState(gethGenesis);
  const blockchain = await createBlockchain({ common, genesisState, validateConsensus: false, validateBlocks: false });
  genesisBlock = blockchain.genesisBlock;
} catch (err) {
  if (!opt['genesis-hash']) {
    emit({ event: 'error', message: `computing the genesis block: ${err.message} (pass --genesis-hash)` });
    process.exit(1);
  }
  note(`computing the genesis block failed (${err.message}); using --genesis-hash, block 0 is not served`);
}
let genesisHash = genesisBlock?.hash();
if (opt['genesis-hash']) {
  if (!/^0x[0-9a-fA-F]{64}$/.test(opt['genesis-hash'])) usage('--genesis-hash must be 0x + 64 hex digits');
  const given = hexToBytes(opt['genesis-hash'].toLowerCase());
  if (genesisHash && !equalsBytes(given, genesisHash)) {
    emit({
      event: 'warning',
      message: `--genesis-hash ${opt['genesis-hash']} differs from ethereumjs's ${bytesToHex(genesisHash)}; using the given one, block 0 is not served`,
    });
    genesisBlock = null;
  }
  genesisHash = given;
}
common.setForkHashes(genesisHash);

/** Blocks as [header, transactions, uncles, withdrawals?] (decoded RLP), from an RLP stream or a build-chain.mjs JSON. */
function readChainFile(file) {
  const bytes = new Uint8Array(fs.readFileSync(file));
  const blocks = [];
  if (bytes[0] === 0x7b /* { */) {
    const json = JSON.parse(new TextDecoder().decode(bytes));
    for (const b of json.blocks) blocks.push(RLP.decode(hexToBytes(b.rawBlock)));
    return blocks;
  }
  let rest = bytes;
  while (rest.length > 0) {
    const { data, remainder } = RLP.decode(rest, true);
    blocks.push(data);
    rest = remainder;
  }
  return blocks;
}

// chain[n] = { header (decoded), body (decoded [txs, uncles, withdrawals?]), hash, number, timestamp, difficulty }
const chain = [];
function addBlock(header, body) {
  const hash = keccak256(RLP.encode(header));
  const number = Number(bytesToBigInt(header[8]));
  if (number !== chain.length) throw new Error(`chain file: block ${number} where ${chain.length} was expected`);
  if (number > 0 && !equalsBytes(header[0], chain[number - 1].hash)) {
    throw new Error(`chain file: block ${number}'s parent hash is not block ${number - 1}'s hash`);
  }
  chain.push({ header, body, hash, number, timestamp: bytesToBigInt(header[11]), difficulty: bytesToBigInt(header[7]) });
}
try {
  const genesisRaw = genesisBlock?.raw();
  if (genesisRaw) addBlock(genesisRaw[0], genesisRaw.slice(1));
  else chain.push({ header: null, body: null, hash: genesisHash, number: 0, timestamp: 0n, difficulty: BigInt(gethGenesis.difficulty ?? 0) });
  if (opt.chain) {
    const blocks = readChainFile(opt.chain);
    if (blocks.length > 0 && !equalsBytes(blocks[0][0][0], genesisHash)) {
      throw new Error(`chain file: block 1's parent hash ${bytesToHex(blocks[0][0][0])} is not the genesis hash ${bytesToHex(genesisHash)}`);
    }
    for (const b of blocks) addBlock(b[0], b.slice(1));
  }
} catch (err) {
  emit({ event: 'error', message: err.message });
  process.exit(1);
}
if (opt.head !== undefined) {
  const head = intArg('head');
  if (head >= chain.length) usage(`--head ${head}: the chain ends at block ${chain.length - 1}`);
  chain.splice(head + 1);
}

// Our Status: with --serve the chain head, else genesis (a node that has nothing yet). td = sum of difficulties
// from genesis (genesis included) to that head, as geth keeps it.
const local = opt.serve ? chain.at(-1) : chain[0];
const td = chain.slice(0, local.number + 1).reduce((sum, b) => sum + b.difficulty, 0n);
// ETH takes its fork hash and next fork from the Common's hardfork: set it by our head, as the client does.
common.setHardforkBy({ blockNumber: BigInt(local.number), timestamp: local.timestamp });
const localForkId = { hash: common.forkHash(common.hardfork()), next: (common.nextHardforkBlockOrTimestamp(common.hardfork()) ?? 0n).toString() };

// The EIP-2124 fork id over every *Block / *Time key of the genesis config (geth's rule), for comparison only.
function eip2124ForkId(config, genesisTime, headNumber, headTime) {
  const collect = (suffix) => [...new Set(Object.entries(config)
    .filter(([k, v]) => k.endsWith(suffix) && typeof v === 'number' && k !== 'terminalTotalDifficulty')
    .map(([, v]) => BigInt(v)))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const blocks = collect('Block').filter((b) => b > 0n);
  const times = collect('Time').filter((t) => t > genesisTime);
  let hash = crc32(genesisHash);
  let next = 0n;
  for (const [forks, head] of [[blocks, headNumber], [times, headTime]]) {
    for (const f of forks) {
      if (f <= head) hash = crc32(bigIntTo8Bytes(f), hash);
      else if (next === 0n) next = f;
    }
  }
  return { hash: `0x${hash.toString(16).padStart(8, '0')}`, next: next.toString() };
}
function bigIntTo8Bytes(v) {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, v);
  return out;
}
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
function crc32(bytes, prev = 0) {
  let c = (prev ^ 0xffffffff) >>> 0;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
const configForkId = eip2124ForkId(gethGenesis.config ?? {}, BigInt(gethGenesis.timestamp ?? 0), BigInt(local.number), local.timestamp);

// ---------------------------------------------------------------------------------------------------------------
// Checking what a remote sends: header links, and each body against its header's roots.

const headerHash = (h) => keccak256(RLP.encode(h));
async function orderedTrieRoot(values) {
  if (values.length === 0) return KECCAK256_RLP;
  const trie = new MerklePatriciaTrie();
  for (const [i, v] of values.entries()) await trie.put(RLP.encode(i), v);
  return trie.root();
}
/** null when the body matches the header, else what is wrong. */
async function checkBody(header, body) {
  if (!Array.isArray(body) || body.length < 2 || body.length > 3) return `body has ${Array.isArray(body) ? body.length : 'no'} fields`;
  const [txs, uncles, withdrawals] = body;
  // header fields: 1 ommersHash, 4 transactionsRoot, 16 withdrawalsRoot (from Shanghai)
  // a typed transaction is a byte string in the list, a legacy one an RLP list
  const txRoot = await orderedTrieRoot(txs.map((tx) => (tx instanceof Uint8Array ? tx : RLP.encode(tx))));
  if (!equalsBytes(txRoot, header[4])) return 'transactions root mismatch';
  if (!equalsBytes(keccak256(RLP.encode(uncles)), header[1])) return 'uncles hash mismatch';
  const withdrawalsRootInHeader = header.length > 16 ? header[16] : undefined;
  if ((withdrawals === undefined) !== (withdrawalsRootInHeader === undefined)) return 'withdrawals present in one of header and body only';
  if (withdrawals !== undefined) {
    const wRoot = await orderedTrieRoot(withdrawals.map((w) => RLP.encode(w)));
    if (!equalsBytes(wRoot, withdrawalsRootInHeader)) return 'withdrawals root mismatch';
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Serving: answers as a real eth/68 peer would, capped like geth (1024 items, ~2 MiB).

const MAX_HEADERS_SERVE = 1024;
const MAX_BODIES_SERVE = 1024;
const SOFT_RESPONSE_LIMIT = 2 * 1024 * 1024;
const servable = opt.serve ? chain.filter((b) => b.header !== null) : [];
const servableByHash = new Map(servable.map((b) => [bytesToUnprefixedHex(b.hash), b]));
const servableByNumber = new Map(servable.map((b) => [b.number, b]));

function serveHeaders([origin, amount, skip, reverse]) {
  const out = [];
  let start;
  if (origin.length === 32) start = servableByHash.get(bytesToUnprefixedHex(origin));
  else start = servableByNumber.get(Number(bytesToBigInt(origin)));
  const count = Math.min(Number(bytesToBigInt(amount)), MAX_HEADERS_SERVE);
  const step = BigInt(bytesToBigInt(skip)) + 1n;
  const rev = bytesToInt(reverse) !== 0;
  let size = 0;
  for (let b = start, i = 0; b !== undefined && i < count && size < SOFT_RESPONSE_LIMIT; i++) {
    out.push(b.header);
    size += RLP.encode(b.header).length;
    const nextNumber = BigInt(b.number) + (rev ? -step : step);
    b = nextNumber < 0n || nextNumber > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : servableByNumber.get(Number(nextNumber));
  }
  return out;
}
function serveBodies(hashes) {
  const out = [];
  let size = 0;
  for (const h of hashes.slice(0, MAX_BODIES_SERVE)) {
    const b = servableByHash.get(bytesToUnprefixedHex(h));
    if (b === undefined) continue; // unknown: skipped, as geth does
    out.push(b.body);
    size += RLP.encode(b.body).length;
    if (size >= SOFT_RESPONSE_LIMIT) break;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// RLPx

const privateKey = opt.key ? hexToBytes(opt.key.startsWith('0x') ? opt.key : `0x${opt.key}`) : genPrivateKey();
if (privateKey.length !== 32) usage('--key must be 32 bytes of hex');
const rlpx = new RLPx(privateKey, {
  dpt: null, // no discovery: RLPx only
  maxPeers,
  capabilities: ethVersions.map((v) => ETH_BY_VERSION[v]),
  common,
  listenPort: port === 0 ? null : port,
  ...(opt['client-id'] ? { clientId: utf8ToBytes(opt['client-id']) } : {}),
});
const ourId = bytesToUnprefixedHex(rlpx.id);

const peers = new Map(); // id hex -> state
const idOf = (peer) => (peer.getId() ? bytesToUnprefixedHex(peer.getId()) : null);
const statusFields = (s) => ({
  version: bytesToInt(s[0]),
  networkId: bytesToBigInt(s[1]).toString(),
  td: bytesToBigInt(s[2]).toString(),
  bestHash: bytesToHex(s[3]),
  genesisHash: bytesToHex(s[4]),
  forkId: Array.isArray(s[5]) ? { hash: bytesToHex(s[5][0]), next: bytesToBigInt(s[5][1]).toString() } : null,
  ...(s.length > 6 ? { extraFields: s.length - 6 } : {}),
});

// Peers that close before their Hello completes get no 'peer:removed' from RLPx (its Peer emits 'close' only once
// connected); report those too, with whatever reason came or went.
const origOnSocketClose = Peer.prototype._onSocketClose;
Peer.prototype._onSocketClose = function onSocketClose(...args) {
  const wasConnected = this._connected;
  origOnSocketClose.apply(this, args);
  if (!wasConnected) {
    const reason = this._disconnectReason;
    emit({
      event: 'disconnect',
      id: idOf(this),
      stage: 'handshake',
      reason: reason ?? null,
      reasonName: reason !== undefined ? (DisconnectReasonNames[reason] ?? null) : null,
      by: this._disconnectWe === true ? 'us' : this._disconnectWe === false ? 'remote' : null,
      hello: this._hello ? { clientId: this._hello.clientId, capabilities: this._hello.capabilities.map((c) => `${c.name}/${c.version}`) } : null,
    });
    if (opt['exit-when-done'] && peers.size === 0) {
      emit({ event: 'done', id: idOf(this), ok: false });
      stop(1);
    }
  }
};

rlpx.events.on('peer:added', (peer) => {
  const id = idOf(peer);
  const hello = peer.getHelloMessage();
  const eth = peer.getProtocols().find((p) => p instanceof ETH);
  const state = { peer, eth, id, accepted: false, nextReqId: BigInt(Math.floor(Math.random() * 2 ** 32)) << 16n, pending: new Map() };
  peers.set(id, state);
  emit({
    event: 'hello',
    id,
    clientId: hello.clientId,
    protocolVersion: hello.protocolVersion,
    capabilities: hello.capabilities.map((c) => `${c.name}/${c.version}`),
    listenPort: hello.port,
    remoteAddress: `${peer._socket.remoteAddress}:${peer._socket.remotePort}`,
    eth: eth?.getVersion() ?? null,
  });
  if (!eth) return; // RLPx already disconnects (USELESS_PEER) when no capability is shared
  eth.events.on('status', (status) => {
    state.accepted = true;
    emit({ event: 'peer', id, clientId: hello.clientId, eth: eth.getVersion() });
    emit({ event: 'status', id, remote: statusFields(eth._peerStatus) });
    runFetches(state).catch((err) => emit({ event: 'error', id, message: `fetch: ${err.message}` }));
  });
  eth.events.on('message', (code, payload) => {
    try {
      onEthMessage(state, code, payload);
    } catch (err) {
      emit({ event: 'error', id, message: `handling ${EthMessageCodeNames[code]}: ${err.message}` });
    }
  });
  try {
    eth.sendStatus({ td: bigIntToUnpaddedBytes(td), bestHash: local.hash, genesisHash });
  } catch (err) {
    // The remote's Status came first and ours completes the check: the same rejection ETH makes when the remote's
    // comes second, where the Peer disconnects with SUBPROTOCOL_ERROR; do the same here.
    onPeerError(peer, err);
    peer.disconnect(DISCONNECT_REASON.SUBPROTOCOL_ERROR);
  }
});

function onPeerError(peer, err) {
  const id = idOf(peer);
  const state = id ? peers.get(id) : undefined;
  const eth = state?.eth;
  if (state && !state.accepted && eth?._peerStatus) {
    let remote;
    try {
      remote = statusFields(eth._peerStatus);
    } catch {
      remote = null;
    }
    emit({ event: 'status-rejected', id, message: err.message, remote });
  }
  emit({ event: 'error', id, message: err.message });
}
rlpx.events.on('peer:error', onPeerError);
let listening = false;
rlpx.events.on('error', (err) => {
  emit({ event: 'error', message: `rlpx: ${err.message}` });
  if (!listening) stop(1); // e.g. EADDRINUSE: nothing to do without a server
});

rlpx.events.on('peer:removed', (peer, reason, disconnectWe) => {
  const id = idOf(peer);
  const state = peers.get(id);
  peers.delete(id);
  for (const p of state?.pending.values() ?? []) p.reject(new Error('disconnected'));
  if (opt['exit-when-done'] && state && !state.fetched) exitAfterDisconnect = true;
  emit({
    event: 'disconnect',
    id,
    stage: state?.accepted ? 'eth' : 'status',
    reason: reason ?? null,
    reasonName: reason !== undefined ? (DisconnectReasonNames[reason] ?? null) : null,
    by: disconnectWe === true ? 'us' : disconnectWe === false ? 'remote' : null,
  });
  if (exitAfterDisconnect && peers.size === 0) {
    // --exit-when-done: the peer left before its fetches were done (e.g. a rejected Status)
    emit({ event: 'done', id, ok: false });
    stop(1);
  }
});
let exitAfterDisconnect = false;

function onEthMessage(state, code, payload) {
  const { eth, id } = state;
  switch (code) {
    case EthMessageCodes.GET_BLOCK_HEADERS: {
      const [reqId, query] = payload;
      const headers = serveHeaders(query);
      eth.sendMessage(EthMessageCodes.BLOCK_HEADERS, [reqId, headers]);
      emit({
        event: 'served',
        id,
        message: 'GetBlockHeaders',
        reqId: bytesToBigInt(reqId).toString(),
        origin: query[0].length === 32 ? bytesToHex(query[0]) : bytesToBigInt(query[0]).toString(),
        amount: bytesToBigInt(query[1]).toString(),
        skip: bytesToBigInt(query[2]).toString(),
        reverse: bytesToInt(query[3]) !== 0,
        count: headers.length,
      });
      return;
    }
    case EthMessageCodes.GET_BLOCK_BODIES: {
      const [reqId, hashes] = payload;
      const bodies = serveBodies(hashes);
      eth.sendMessage(EthMessageCodes.BLOCK_BODIES, [reqId, bodies]);
      emit({
        event: 'served', id, message: 'GetBlockBodies', reqId: bytesToBigInt(reqId).toString(), requested: hashes.length, count: bodies.length,
      });
      return;
    }
    case EthMessageCodes.GET_RECEIPTS: // no receipts kept: an empty answer, which the protocol allows
    case EthMessageCodes.GET_POOLED_TRANSACTIONS: {
      const [reqId, hashes] = payload;
      eth.sendMessage(code + 1, [reqId, []]);
      emit({
        event: 'served',
        id,
        message: code === EthMessageCodes.GET_RECEIPTS ? 'GetReceipts' : 'GetPooledTransactions',
        reqId: bytesToBigInt(reqId).toString(),
        requested: hashes.length,
        count: 0,
      });
      return;
    }
    case EthMessageCodes.BLOCK_HEADERS:
    case EthMessageCodes.BLOCK_BODIES: {
      const [reqId, items] = payload;
      const key = bytesToBigInt(reqId);
      const p = state.pending.get(key);
      if (!p || p.code !== code) {
        emit({ event: 'unsolicited', id, message: EthMessageCodeNames[code], reqId: key.toString(), count: items.length });
        return;
      }
      state.pending.delete(key);
      p.resolve(items);
      return;
    }
    case EthMessageCodes.STATUS: // ETH re-emits the Status as a message; handled by its 'status' event
      return;
    default:
      emit({ event: 'message', id, message: EthMessageCodeNames[code] ?? code });
  }
}

function request(state, code, answerCode, body) {
  const reqId = state.nextReqId++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      state.pending.delete(reqId);
      reject(new Error(`${EthMessageCodeNames[code]} ${reqId}: no answer within ${requestTimeoutMs} ms`));
    }, requestTimeoutMs);
    state.pending.set(reqId, {
      code: answerCode,
      resolve: (v) => { clearTimeout(timer); resolve(v); },
      reject: (e) => { clearTimeout(timer); reject(e); },
    });
    state.eth.sendMessage(code, [bigIntToUnpaddedBytes(reqId), body]);
  });
}

// Every peer whose Status is accepted gets the --fetch-headers list, in order; with --exit-when-done the first peer
// to finish it ends the process.
async function runFetches(state) {
  if (fetches.length === 0) return;
  let ok = true;
  for (const f of fetches) {
    try {
      if (!(await fetchOne(state, f))) ok = false;
    } catch (err) {
      ok = false;
      emit({ event: 'error', id: state.id, message: `${f.spec}: ${err.message}` });
    }
  }
  state.fetched = true;
  emit({ event: 'done', id: state.id, ok });
  if (opt['exit-when-done']) await stop(ok ? 0 : 1);
}

async function fetchOne(state, f) {
  const origin = f.origin === 'head' ? state.eth._peerStatus[3] : f.origin;
  const originBytes = origin instanceof Uint8Array ? origin : bigIntToUnpaddedBytes(origin);
  const headers = await request(state, EthMessageCodes.GET_BLOCK_HEADERS, EthMessageCodes.BLOCK_HEADERS, [
    originBytes,
    bigIntToUnpaddedBytes(BigInt(f.count)),
    bigIntToUnpaddedBytes(BigInt(f.skip)),
    bigIntToUnpaddedBytes(f.reverse ? 1n : 0n),
  ]);
  const problems = [];
  const info = headers.map((h) => ({ number: bytesToBigInt(h[8]), hash: headerHash(h) }));
  if (headers.length > f.count) problems.push(`${headers.length} headers for ${f.count} asked`);
  if (headers.length > 0) {
    const first = info[0];
    if (origin instanceof Uint8Array ? !equalsBytes(first.hash, origin) : first.number !== origin) problems.push('first header is not the origin');
  }
  const step = BigInt(f.skip + 1) * (f.reverse ? -1n : 1n);
  let linked = true;
  for (let i = 1; i < headers.length; i++) {
    if (info[i].number !== info[i - 1].number + step) problems.push(`header ${i} is block ${info[i].number}, expected ${info[i - 1].number + step}`);
    if (f.skip === 0) {
      // the child's parentHash is the keccak of its parent's RLP
      const [child, parent] = f.reverse ? [i - 1, i] : [i, i - 1];
      if (!equalsBytes(headers[child][0], info[parent].hash)) linked = false;
    }
  }
  if (!linked) problems.push('parent hashes do not link');
  const hdrOk = problems.length === 0;
  emit({
    event: 'headers',
    id: state.id,
    request: { origin: origin instanceof Uint8Array ? bytesToHex(origin) : origin.toString(), count: f.count, skip: f.skip, reverse: f.reverse },
    count: headers.length,
    first: headers.length ? { number: info[0].number.toString(), hash: bytesToHex(info[0].hash) } : null,
    last: headers.length ? { number: info.at(-1).number.toString(), hash: bytesToHex(info.at(-1).hash) } : null,
    linked: f.skip === 0 ? linked : null,
    ok: hdrOk,
    ...(hdrOk ? {} : { problems }),
  });
  if (!opt['fetch-bodies'] || headers.length === 0) return hdrOk;

  // Bodies of the headers received, asked again for whatever a partial answer left out.
  const bodies = new Map(); // index -> body
  let todo = headers.map((_, i) => i);
  let requests = 0;
  while (todo.length > 0) {
    const got = await request(state, EthMessageCodes.GET_BLOCK_BODIES, EthMessageCodes.BLOCK_BODIES, todo.map((i) => info[i].hash));
    requests++;
    if (got.length > todo.length) throw new Error(`${got.length} bodies for ${todo.length} asked`);
    if (got.length === 0) break; // no progress: the remote lacks them
    got.forEach((b, k) => bodies.set(todo[k], b));
    todo = todo.slice(got.length);
  }
  const bodyProblems = [];
  let transactions = 0;
  let withdrawals = 0;
  for (const [i, body] of [...bodies.entries()].sort((a, b) => a[0] - b[0])) {
    const wrong = await checkBody(headers[i], body);
    if (wrong) bodyProblems.push(`block ${info[i].number}: ${wrong}`);
    else {
      transactions += body[0].length;
      withdrawals += body[2]?.length ?? 0;
    }
  }
  if (bodies.size < headers.length) bodyProblems.push(`${headers.length - bodies.size} bodies not delivered`);
  const bodiesOk = bodyProblems.length === 0;
  emit({
    event: 'bodies',
    id: state.id,
    count: bodies.size,
    requested: headers.length,
    requests,
    transactions,
    withdrawals,
    verified: bodiesOk,
    ...(bodiesOk ? {} : { problems: bodyProblems }),
  });
  return hdrOk && bodiesOk;
}

// ---------------------------------------------------------------------------------------------------------------
// Start, dial, stop

let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  try {
    rlpx.destroy(); // sends Disconnect(CLIENT_QUITTING) to every peer
  } catch {
    // already destroyed
  }
  await new Promise((resolve) => setTimeout(resolve, 200)); // let the Disconnect frames leave
  emit({ event: 'stopped', code });
  process.exit(code);
}
onSignal = () => stop(0);

rlpx.events.once('listening', async () => {
  listening = true;
  const { port: boundPort, address } = rlpx._server.address();
  rlpx._listenPort = boundPort; // the port our Hello announces
  emit({
    event: 'listening',
    enode: `enode://${ourId}@${address}:${boundPort}`,
    id: ourId,
    port: boundPort,
    eth: ethVersions,
    local: {
      version: Math.max(...ethVersions),
      networkId: common.chainId().toString(),
      td: td.toString(),
      bestNumber: local.number,
      bestHash: bytesToHex(local.hash),
      genesisHash: bytesToHex(genesisHash),
      hardfork: common.hardfork(),
      forkId: localForkId,
    },
    configForkId, // EIP-2124 over every fork in the genesis config (what geth would announce); may differ, see README
    chain: { blocks: chain.length - 1, served: servable.length },
  });
  for (const d of dials) dial(d);
});

async function dial(d) {
  const deadline = Date.now() + dialRetryMs;
  emit({ event: 'dialing', enode: d.enode });
  for (;;) {
    try {
      await rlpx.connect({ id: d.id, address: d.address, tcpPort: d.tcpPort });
      return;
    } catch (err) {
      if (Date.now() < deadline && !stopping) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        continue;
      }
      emit({ event: 'error', message: `dial ${d.enode}: ${err.message ?? err}` });
      if (opt['exit-when-done']) {
        emit({ event: 'done', ok: false });
        await stop(1);
      }
      return;
    }
  }
}

rlpx.listen(port, '127.0.0.1');

#!/usr/bin/env node
// A third-party discv4 node for the discovery interop tests: the DPT (Distributed Peer Table) of the published
// @ethereumjs/devp2p 10.0.0, nothing reimplemented. It binds UDP on 127.0.0.1, advertises the TCP port of an RLPx
// peer run beside it with the same key (devp2p-peer.mjs --key), bootstraps from the --bootnode URLs, and reports each
// node its table takes. No DNS lookups (shouldGetDnsPeers false).
//
//   node --import ./loopback.mjs dpt-peer.mjs --key HEX --udp-port N [--tcp-port N] [--bootnode enode://..]...
//        [--refresh-ms 1000]
//
// stdout, one JSON object per line: {"event":"listening","id":HEX,"udpPort":N,"tcpPort":N}, then
// {"event":"peer","id":HEX,"address":S,"udpPort":N,"tcpPort":N} for each node added to the table and
// {"event":"removed","id":HEX} for each node it drops. stderr: diagnostics only.
// Exit code: 0 on SIGINT/SIGTERM; 1 on a fatal error; 2 for bad arguments.
import { parseArgs } from 'node:util';

const emit = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
const note = (message) => process.stderr.write(`dpt-peer: ${message}\n`);
let stop = () => process.exit(0);
process.on('SIGINT', () => stop());
process.on('SIGTERM', () => stop());

const [{ DPT }, { bytesToUnprefixedHex, hexToBytes }, { secp256k1 }] = await Promise.all([
  import('@ethereumjs/devp2p'),
  import('@ethereumjs/util'),
  import('ethereum-cryptography/secp256k1.js'),
]);

function usage(message) {
  note(message);
  process.exit(2);
}

const { values: opt } = parseArgs({
  options: {
    key: { type: 'string' },
    'udp-port': { type: 'string' },
    'tcp-port': { type: 'string', default: '0' },
    bootnode: { type: 'string', multiple: true, default: [] },
    'refresh-ms': { type: 'string', default: '1000' },
  },
});
if (!opt.key || !/^(0x)?[0-9a-fA-F]{64}$/.test(opt.key)) usage('--key must be 32 bytes of hex');
const intArg = (name, min) => {
  const v = Number(opt[name]);
  if (!Number.isInteger(v) || v < min || v > 65535) usage(`--${name} must be an integer from ${min} to 65535, got ${opt[name]}`);
  return v;
};
const udpPort = intArg('udp-port', 1);
const tcpPort = intArg('tcp-port', 0);
const refreshMs = intArg('refresh-ms', 10);

// enode://<128 hex>@127.0.0.1:<tcp>[?discport=<udp>]
function parseEnode(url) {
  const m = /^enode:\/\/([0-9a-f]{128})@([0-9.]+):(\d+)(?:\?discport=(\d+))?$/.exec(url);
  if (!m) usage(`--bootnode '${url}' is not an enode URL with an IPv4 address`);
  if (!m[2].startsWith('127.')) usage(`--bootnode '${url}' is not on 127.0.0.0/8: this fixture talks to loopback only`);
  const tcp = Number(m[3]);
  return { id: hexToBytes(`0x${m[1]}`), address: m[2], tcpPort: tcp, udpPort: m[4] ? Number(m[4]) : tcp };
}
const bootnodes = opt.bootnode.map(parseEnode);

const privateKey = hexToBytes(opt.key.startsWith('0x') ? opt.key : `0x${opt.key}`);
const id = bytesToUnprefixedHex(secp256k1.getPublicKey(privateKey, false).subarray(1));
const dpt = new DPT(privateKey, {
  endpoint: { address: '127.0.0.1', udpPort, tcpPort },
  refreshInterval: refreshMs * 10, // DPT refreshes a tenth of its table every refreshInterval / 10
  shouldFindNeighbours: true,
  shouldGetDnsPeers: false,
  timeout: 2000,
});
dpt.events.on('error', (err) => note(`error: ${err?.message ?? err}`));
dpt.events.on('peer:added', (peer) =>
  emit({ event: 'peer', id: bytesToUnprefixedHex(peer.id), address: peer.address, udpPort: peer.udpPort, tcpPort: peer.tcpPort }),
);
dpt.events.on('peer:removed', (peer) => emit({ event: 'removed', id: bytesToUnprefixedHex(peer.id) }));
stop = () => {
  try {
    dpt.destroy();
  } catch (err) {
    note(`destroy: ${err?.message ?? err}`);
  }
  process.exit(0);
};
dpt.events.once('listening', () => {
  emit({ event: 'listening', id, udpPort, tcpPort });
  for (const bootnode of bootnodes) {
    dpt.bootstrap(bootnode).catch((err) => note(`bootstrap ${bootnode.address}:${bootnode.udpPort}: ${err?.message ?? err}`));
  }
});
dpt.bind(udpPort, '127.0.0.1');

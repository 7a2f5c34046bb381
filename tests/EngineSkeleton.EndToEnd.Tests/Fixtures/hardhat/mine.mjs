// Mines a chain on a running `hardhat node` and writes its genesis as a geth-format genesis.json.
//
//   node mine.mjs --rpc-url http://127.0.0.1:PORT --blocks 1000 --genesis-out genesis.json --chain-out chain.json [--batch 50]
//
// Blocks are mined with evm_mine, --batch calls per JSON-RPC batch request; never hardhat_mine(N), which
// leaves placeholder blocks. Before each batch three transactions (legacy, EIP-2930, EIP-1559) go to the pool,
// so the first block of every batch carries them. Prints one JSON line per batch, then {"done":true,...}.
// chain.json: { genesisHash, head, blocks: [{ number, hash, parentHash, transactionCount }] } for blocks 0..head,
// each as hardhat's eth_getBlockByNumber gives it (its own hashes, which the test compares ours with).
//
// The genesis file: hardhat has no genesis.json of its own, so this one is read back from the node — block 0's
// header fields, the funded accounts (eth_accounts) and the system contracts hardhat deploys at genesis — with every
// fork at 0. Storage is not enumerable over JSON-RPC; the test checks that the file hashes to hardhat's block 0.
import fs from 'node:fs';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    'rpc-url': { type: 'string' },
    blocks: { type: 'string', default: '1000' },
    batch: { type: 'string', default: '50' },
    'genesis-out': { type: 'string' },
    'chain-out': { type: 'string' },
  },
});
const fail = (message) => {
  process.stderr.write(`mine.mjs: ${message}\n`);
  process.exit(1);
};
if (!opt['rpc-url'] || !opt['genesis-out'] || !opt['chain-out']) fail('--rpc-url, --genesis-out and --chain-out are required');
const blocks = Number(opt.blocks);
const batch = Number(opt.batch);
if (!Number.isInteger(blocks) || blocks < 1 || !Number.isInteger(batch) || batch < 1) fail('--blocks and --batch must be positive integers');

let id = 0;
async function post(body) {
  const response = await fetch(opt['rpc-url'], {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  if (!response.ok) throw new Error(`HTTP ${response.status} for ${JSON.stringify(body).slice(0, 200)}`);
  return response.json();
}
async function rpc(method, params = []) {
  const answer = await post({ jsonrpc: '2.0', id: ++id, method, params });
  if (answer.error) throw new Error(`${method}: ${JSON.stringify(answer.error)}`);
  return answer.result;
}

// EIP-4788 beacon roots, EIP-2935 history storage, EIP-7002 withdrawal and EIP-7251 consolidation requests.
const SYSTEM_CONTRACTS = [
  '0x000f3df6d732807ef1319fb7b8bb8522d0beac02',
  '0x0000f90827f1c53a10cb7a02335b175320002935',
  '0x00000961ef480eb55e80d19ad83579a64c007002',
  '0x0000bbddc7ce488642fb579f8b00f3a590007251',
];

async function genesis() {
  const block = await rpc('eth_getBlockByNumber', ['0x0', false]);
  const chainId = Number(await rpc('eth_chainId'));
  const accounts = await rpc('eth_accounts');
  const alloc = {};
  for (const address of [...accounts.map((a) => a.toLowerCase()), ...SYSTEM_CONTRACTS]) {
    const [balance, nonce, code] = await Promise.all([
      rpc('eth_getBalance', [address, '0x0']),
      rpc('eth_getTransactionCount', [address, '0x0']),
      rpc('eth_getCode', [address, '0x0']),
    ]);
    if (BigInt(balance) === 0n && BigInt(nonce) === 0n && code === '0x') continue;
    alloc[address] = { balance, ...(BigInt(nonce) > 0n ? { nonce } : {}), ...(code !== '0x' ? { code } : {}) };
  }
  const config = { chainId, homesteadBlock: 0, eip150Block: 0, eip155Block: 0, eip158Block: 0, byzantiumBlock: 0,
    constantinopleBlock: 0, petersburgBlock: 0, istanbulBlock: 0, berlinBlock: 0, londonBlock: 0,
    mergeNetsplitBlock: 0, terminalTotalDifficulty: 0, shanghaiTime: 0, cancunTime: 0, pragueTime: 0, osakaTime: 0 };
  return {
    hash: block.hash,
    file: {
      config,
      nonce: block.nonce, timestamp: block.timestamp, extraData: block.extraData, gasLimit: block.gasLimit,
      difficulty: block.difficulty, mixHash: block.mixHash, coinbase: block.miner, baseFeePerGas: block.baseFeePerGas,
      number: '0x0', gasUsed: '0x0', parentHash: block.parentHash, alloc,
    },
  };
}

const started = performance.now();
const { hash: genesisHash, file } = await genesis();
fs.writeFileSync(opt['genesis-out'], `${JSON.stringify(file, null, 2)}\n`);
const [from, to] = await rpc('eth_accounts');
const gwei = 1_000_000_000n;
const hex = (n) => `0x${BigInt(n).toString(16)}`;
let transactions = 0;
let head = Number(await rpc('eth_blockNumber'));
const target = head + blocks;
while (head < target) {
  const count = Math.min(batch, target - head);
  await rpc('eth_sendTransaction', [{ from, to, value: hex(head + 1), gas: hex(21_000), gasPrice: hex(10n * gwei), type: '0x0' }]);
  await rpc('eth_sendTransaction', [{ from, to, value: hex(head + 2), gas: hex(30_000), gasPrice: hex(10n * gwei), type: '0x1', accessList: [{ address: to, storageKeys: [`0x${'0'.repeat(63)}1`] }] }]);
  await rpc('eth_sendTransaction', [{ from: to, to: from, value: hex(head + 3), gas: hex(21_000), maxFeePerGas: hex(20n * gwei), maxPriorityFeePerGas: hex(gwei), type: '0x2' }]);
  transactions += 3;
  const answers = await post(Array.from({ length: count }, () => ({ jsonrpc: '2.0', id: ++id, method: 'evm_mine', params: [] })));
  const failed = (Array.isArray(answers) ? answers : [answers]).find((a) => a.error);
  if (failed || !Array.isArray(answers) || answers.length !== count) throw new Error(`evm_mine batch: ${JSON.stringify(failed ?? answers).slice(0, 300)}`);
  head = Number(await rpc('eth_blockNumber'));
  console.log(JSON.stringify({ batch: count, head }));
}

const chain = [];
for (let from = 0; from <= head; from += 100) {
  const numbers = Array.from({ length: Math.min(100, head + 1 - from) }, (_, i) => from + i);
  const answers = await post(numbers.map((n) => ({ jsonrpc: '2.0', id: n, method: 'eth_getBlockByNumber', params: [hex(n), false] })));
  for (const n of numbers) {
    const block = answers.find((a) => a.id === n)?.result;
    if (!block || Number(block.number) !== n) throw new Error(`eth_getBlockByNumber(${n}): ${JSON.stringify(answers.find((a) => a.id === n))}`);
    chain.push({ number: n, hash: block.hash, parentHash: block.parentHash, transactionCount: block.transactions.length });
  }
}
fs.writeFileSync(opt['chain-out'], `${JSON.stringify({ genesisHash, head, blocks: chain })}\n`);
const last = chain[chain.length - 1];
console.log(JSON.stringify({ done: true, head, headHash: last.hash, genesisHash, transactions, ms: Math.round(performance.now() - started) }));

// What build-chain.mjs and build-branch.mjs do alike with each block they build: the forkchoiceState that trails
// the head, and, once Lodestar has built the payload, importing it, making it the head and recording it as the chain
// file holds it (README.md, "chain file").
import { jsonRpc } from './ethereumjs.mjs';
import { PRAGUE } from './lodestar.mjs';

// The forkchoiceState with block n of `canonical` (hashes by number) as head: safe and finalized trail it by 8 and 16.
export const forkchoiceStateAt = (canonical, n) => ({
  headBlockHash: canonical[n],
  safeBlockHash: canonical[Math.max(0, n - 8)],
  finalizedBlockHash: canonical[Math.max(0, n - 16)],
});

// Imports block n as getPayload `built` it (newPayload, no blob transactions), appends its hash to `canonical` and
// makes it the head (forkchoiceUpdated); returns its chain-file record. `what` names the block in errors.
export async function importBlock({ engine, wire, rpcUrl, canonical, n, built, parentBeaconBlockRoot, transactionHashes, what }) {
  const versionedHashes = []; // no blob transactions
  const status = await engine.notifyNewPayload(PRAGUE, built.executionPayload, versionedHashes, parentBeaconBlockRoot, built.executionRequests);
  if (status.status !== 'VALID') throw new Error(`${what}: newPayload ${JSON.stringify(status)}`);
  const newPayload = wire.findLast((w) => w.method === 'engine_newPayloadV4');
  const hash = newPayload.params[0].blockHash;
  canonical.push(hash);
  const headState = forkchoiceStateAt(canonical, n);
  await engine.notifyForkchoiceUpdate(PRAGUE, headState.headBlockHash, headState.safeBlockHash, headState.finalizedBlockHash);
  const fcu = wire.findLast((w) => w.method === 'engine_forkchoiceUpdatedV3');
  if (fcu.result?.payloadStatus?.status !== 'VALID') throw new Error(`${what}: forkchoiceUpdated ${JSON.stringify(fcu.result ?? fcu.error)}`);
  const [rawHeader, rawBlock] = await Promise.all([
    jsonRpc(rpcUrl, 'debug_getRawHeader', [`0x${n.toString(16)}`]),
    jsonRpc(rpcUrl, 'debug_getRawBlock', [`0x${n.toString(16)}`]),
  ]);
  return {
    number: n,
    hash,
    parentHash: newPayload.params[0].parentHash,
    timestamp: Number(newPayload.params[0].timestamp),
    transactionHashes,
    newPayload: { method: newPayload.method, params: newPayload.params },
    forkchoiceState: headState,
    rawHeader,
    rawBlock,
  };
}

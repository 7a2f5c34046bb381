using System.Text.Json;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Sync.Peers;
using static EngineSkeleton.Network.Rpc.RpcAnswers;

namespace EngineSkeleton.Network.Rpc;

/// <summary>
/// How an <see cref="RpcSyncPeer"/> gets bodies for one batch of hashes, into their places in the caller's array:
/// from raw blocks where the node serves them, else rebuilt from full JSON blocks.
/// </summary>
internal sealed class RpcBodies(JsonRpcClient client)
{
    /// <summary>
    /// Bodies for hashes[start..start+size): numbers from eth_getBlockByHash, then the blocks by number, each of
    /// which must hash to the hash asked for (a reorg between the two calls is not told apart from a lie).
    /// </summary>
    public async Task RawBatchAsync(IReadOnlyList<Hash256> hashes, int start, int size, BlockBody?[] bodies, CancellationToken cancellationToken)
    {
        var byHash = new JsonRpcCall[size];
        for (var i = 0; i < size; i++)
        {
            byHash[i] = new JsonRpcCall(BlockByHashMethod, hashes[start + i].ToString(), false);
        }
        var found = new List<(int Index, ulong Number)>(size);
        using (var batch = await client.SendAsync(byHash, cancellationToken))
        {
            for (var i = 0; i < size; i++)
            {
                if (IsMissing(batch[i], byHash[i]))
                {
                    continue;
                }
                if (!RpcBlockJson.TryReadNumberAndHash(batch[i].Result, out var number, out var claimed, out var error))
                {
                    throw new PeerException($"block {hashes[start + i]} is malformed: {error}");
                }
                if (claimed != hashes[start + i])
                {
                    throw new PeerException($"asked for block {hashes[start + i]}, got {claimed}");
                }
                found.Add((start + i, number));
            }
        }
        if (found.Count == 0)
        {
            return;
        }
        var byNumber = new JsonRpcCall[found.Count];
        for (var i = 0; i < found.Count; i++)
        {
            byNumber[i] = new JsonRpcCall(RawBlockMethod, Quantity(found[i].Number));
        }
        using var blocks = await client.SendAsync(byNumber, cancellationToken);
        for (var i = 0; i < found.Count; i++)
        {
            var (index, number) = found[i];
            if (IsMissing(blocks[i], byNumber[i]))
            {
                continue;
            }
            if (blocks[i].Result.ValueKind != JsonValueKind.String || !Hex.TryDecode(blocks[i].Result.GetString(), out var rlp))
            {
                throw new PeerException($"raw block #{number} is not hex bytes");
            }
            if (!Block.TryDecode(rlp, out var block, out var error))
            {
                throw new PeerException($"raw block #{number} does not decode: {error}");
            }
            if (block.Hash != hashes[index])
            {
                throw new PeerException($"raw block #{number} is {block.Hash}, not the {hashes[index]} it was asked for by");
            }
            bodies[index] = block.Body;
        }
    }

    /// <summary>
    /// Bodies for hashes[start..start+size) without raw blocks: full blocks from eth_getBlockByHash(hash, true), their
    /// header rebuilt and checked against the hash asked for, every transaction rebuilt and checked against its own
    /// hash, then any uncles, by eth_getUncleByBlockHashAndIndex, rebuilt and checked against the hashes the block
    /// lists (only pre-merge blocks have them).
    /// </summary>
    public async Task JsonBatchAsync(IReadOnlyList<Hash256> hashes, int start, int size, BlockBody?[] bodies, CancellationToken cancellationToken)
    {
        var calls = new JsonRpcCall[size];
        for (var i = 0; i < size; i++)
        {
            calls[i] = new JsonRpcCall(BlockByHashMethod, hashes[start + i].ToString(), true);
        }
        var uncleCalls = new List<JsonRpcCall>();
        var uncleHashes = new List<(int Index, Hash256 Hash)>();
        var parts = new (List<byte[]> Transactions, IReadOnlyList<Withdrawal>? Withdrawals)?[size];
        using (var batch = await client.SendAsync(calls, cancellationToken))
        {
            for (var i = 0; i < size; i++)
            {
                if (IsMissing(batch[i], calls[i]))
                {
                    continue;
                }
                var asked = hashes[start + i];
                var header = JsonHeader(batch[i], $"block {asked}");
                if (header.Hash != asked)
                {
                    throw new PeerException($"asked for block {asked}, got #{header.Number} {header.Hash}");
                }
                var fields = new RpcJsonFields(batch[i].Result);
                var txs = fields.Array("transactions");
                var uncles = fields.Array("uncles");
                if (fields.Error is not null)
                {
                    throw new PeerException($"block #{header.Number} is malformed: {fields.Error}");
                }
                var transactions = new List<byte[]>(txs.Count);
                foreach (var tx in txs)
                {
                    if (!RpcBodyJson.TryEncodeTransaction(tx, out var encoded, out var claimed, out var error))
                    {
                        throw new PeerException($"block #{header.Number} transaction {transactions.Count} is malformed: {error}");
                    }
                    if (Transactions.Hash(encoded) != claimed)
                    {
                        throw new PeerException(
                            $"rebuilt transaction hash mismatch in block #{header.Number} at {transactions.Count}: the node says {claimed}, its fields hash to {Transactions.Hash(encoded)}");
                    }
                    transactions.Add(encoded);
                }
                if (!RpcBodyJson.TryReadWithdrawals(batch[i].Result, out var withdrawals, out var withdrawalsError))
                {
                    throw new PeerException($"block #{header.Number} is malformed: {withdrawalsError}");
                }
                for (var u = 0; u < uncles.Count; u++)
                {
                    if (!Hash256.TryParse(uncles[u].ValueKind == JsonValueKind.String ? uncles[u].GetString() : null, out var uncle))
                    {
                        throw new PeerException($"block #{header.Number} uncle {u} is not a hash");
                    }
                    uncleCalls.Add(new JsonRpcCall(UncleMethod, asked.ToString(), Quantity((ulong)u)));
                    uncleHashes.Add((i, uncle));
                }
                parts[i] = (transactions, withdrawals);
            }
        }
        var ommers = new List<BlockHeader>?[size];
        if (uncleCalls.Count > 0)
        {
            using var batch = await client.SendAsync(uncleCalls, cancellationToken);
            for (var u = 0; u < uncleCalls.Count; u++)
            {
                var (index, expected) = uncleHashes[u];
                if (IsMissing(batch[u], uncleCalls[u]))
                {
                    throw new PeerException($"block {hashes[start + index]} lists uncle {expected} but does not serve it");
                }
                var ommer = JsonHeader(batch[u], $"uncle {expected}");
                if (ommer.Hash != expected)
                {
                    throw new PeerException($"asked for uncle {expected}, got {ommer.Hash}");
                }
                (ommers[index] ??= []).Add(ommer);
            }
        }
        for (var i = 0; i < size; i++)
        {
            if (parts[i] is { } part)
            {
                bodies[start + i] = new BlockBody(part.Transactions, ommers[i] ?? [], part.Withdrawals);
            }
        }
    }
}

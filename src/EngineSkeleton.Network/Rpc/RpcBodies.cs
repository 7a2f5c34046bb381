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
    /// debug_getRawBlock calls per batch: 32 mainnet-like blocks (~100 KB, 200 KB of hex) answer in ~6.4 MB, well
    /// under geth's 25 MB cap on a batch's answer (BatchResponseMaxSize), and a run of 128 goes out as four batches
    /// at once, as headers do. One batch of 128 was a 25 MB answer held whole.
    /// </summary>
    internal const int RawBlocksPerBatch = 32;

    /// <summary>
    /// Bodies for hashes[start..start+size) from raw blocks. The backfiller asks for runs of consecutive blocks, so the
    /// numbers of the first and last hash place every one of them: two eth_getBlockByHash calls instead of one a block
    /// (each answer a whole block's JSON the node builds and we parse only for its number; docs/benchmarks.md, Sync from a
    /// JSON-RPC peer). Each raw block must still hash to the hash asked for; the hashes it does not fit — or every hash,
    /// when the ends are unknown or too far apart for a run — take the per-hash path.
    /// </summary>
    public async Task RawBatchAsync(IReadOnlyList<Hash256> hashes, int start, int size, BlockBody?[] bodies, CancellationToken cancellationToken)
    {
        var rest = Enumerable.Range(start, size).ToList();
        if (size > 2 && await RunOfAsync(hashes[start], hashes[start + size - 1], size, cancellationToken) is { } run)
        {
            var numbers = new ulong[size];
            for (var i = 0; i < size; i++)
            {
                numbers[i] = run.Ascending ? run.First + (ulong)i : run.First - (ulong)i;
            }
            var placed = rest;
            rest = [];
            await RawByNumberAsync(hashes, placed, numbers, bodies, strict: false, rest, cancellationToken);
        }
        if (rest.Count > 0)
        {
            await RawByHashAsync(hashes, rest, bodies, cancellationToken);
        }
    }

    /// <summary>
    /// Where a run of <paramref name="size"/> consecutive blocks from <paramref name="first"/> to <paramref name="last"/>
    /// lies, ascending or descending; null when either is unknown to the node or their numbers are not size − 1 apart.
    /// </summary>
    private async Task<(ulong First, bool Ascending)?> RunOfAsync(Hash256 first, Hash256 last, int size, CancellationToken cancellationToken)
    {
        JsonRpcCall[] calls = [new(BlockByHashMethod, first.ToString(), false), new(BlockByHashMethod, last.ToString(), false)];
        using var batch = await client.SendAsync(calls, cancellationToken);
        if (NumberOf(batch[0], calls[0], first) is not { } from || NumberOf(batch[1], calls[1], last) is not { } to)
        {
            return null;
        }
        return to >= from && to - from == (ulong)(size - 1) ? (from, true)
            : from > to && from - to == (ulong)(size - 1) ? (from, false)
            : null;
    }

    /// <summary>Per hash: numbers from eth_getBlockByHash, then the blocks by number (a reorg between the two calls is not told apart from a lie).</summary>
    private async Task RawByHashAsync(IReadOnlyList<Hash256> hashes, List<int> indexes, BlockBody?[] bodies, CancellationToken cancellationToken)
    {
        var byHash = new JsonRpcCall[indexes.Count];
        for (var i = 0; i < indexes.Count; i++)
        {
            byHash[i] = new JsonRpcCall(BlockByHashMethod, hashes[indexes[i]].ToString(), false);
        }
        var found = new List<int>(indexes.Count);
        var numbers = new List<ulong>(indexes.Count);
        using (var batch = await client.SendAsync(byHash, cancellationToken))
        {
            for (var i = 0; i < indexes.Count; i++)
            {
                if (NumberOf(batch[i], byHash[i], hashes[indexes[i]]) is { } number)
                {
                    found.Add(indexes[i]);
                    numbers.Add(number);
                }
            }
        }
        if (found.Count > 0)
        {
            await RawByNumberAsync(hashes, found, [.. numbers], bodies, strict: true, misses: null, cancellationToken);
        }
    }

    /// <summary>The number eth_getBlockByHash gives for <paramref name="asked"/>, null if the node lacks it; a block that is another one is a lie.</summary>
    private static ulong? NumberOf(JsonRpcAnswer answer, JsonRpcCall call, Hash256 asked)
    {
        if (IsMissing(answer, call))
        {
            return null;
        }
        if (!RpcBlockJson.TryReadNumberAndHash(answer.Result, out var number, out var claimed, out var error))
        {
            throw new PeerException($"block {asked} is malformed: {error}");
        }
        if (claimed != asked)
        {
            throw new PeerException($"asked for block {asked}, got {claimed}");
        }
        return number;
    }

    /// <summary>
    /// The raw blocks at <paramref name="numbers"/> for the hashes at <paramref name="indexes"/>. A block that is not
    /// hex or does not decode is the node's fault either way; one that is another block is a lie when the number came
    /// from the node (<paramref name="strict"/>), else a placement that did not fit: its index goes to
    /// <paramref name="misses"/>, as does one the node lacks.
    /// </summary>
    private async Task RawByNumberAsync(
        IReadOnlyList<Hash256> hashes, List<int> indexes, ulong[] numbers, BlockBody?[] bodies, bool strict, List<int>? misses, CancellationToken cancellationToken)
    {
        var byNumber = new JsonRpcCall[indexes.Count];
        for (var i = 0; i < indexes.Count; i++)
        {
            byNumber[i] = new JsonRpcCall(RawBlockMethod, Quantity(numbers[i]));
        }
        // In batches of RawBlocksPerBatch, all sent at once (each on a connection of its own), each block decoded as its
        // answer streams in (JsonRpcStream): no batch is ever held whole.
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var batches = new List<Task<Block?[]>>((byNumber.Length + RawBlocksPerBatch - 1) / RawBlocksPerBatch);
        for (var from = 0; from < byNumber.Length; from += RawBlocksPerBatch)
        {
            var first = from;
            batches.Add(client.SendStreamingAsync(
                byNumber[from..Math.Min(from + RawBlocksPerBatch, byNumber.Length)],
                (j, answer) => RawBlock(answer, byNumber[first + j], numbers[first + j]),
                abandon.Token));
        }
        var blocks = new Block?[indexes.Count];
        try
        {
            for (var b = 0; b < batches.Count; b++)
            {
                (await batches[b]).CopyTo(blocks, b * RawBlocksPerBatch);
            }
        }
        finally
        {
            await abandon.CancelAsync(); // batches past a failure are not waited for
            // Each is waited for, so none outlives the request; a failure is the request's, thrown where first awaited.
            await ((Task)Task.WhenAll(batches)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        var headers = new List<BlockHeader>(indexes.Count);
        foreach (var block in blocks)
        {
            if (block is not null)
            {
                headers.Add(block.Header);
            }
        }
        BlockHeader.HashAll(headers); // four at a time (Keccak256.HashAll); each Hash below is a read
        for (var i = 0; i < indexes.Count; i++)
        {
            var (index, number) = (indexes[i], numbers[i]);
            if (blocks[i] is not { } block)
            {
                misses?.Add(index);
                continue;
            }
            if (block.Hash != hashes[index])
            {
                if (strict || misses is null)
                {
                    throw new PeerException($"raw block #{number} is {block.Hash}, not the {hashes[index]} it was asked for by");
                }
                misses.Add(index);
                continue;
            }
            bodies[index] = block.Body;
        }
    }

    /// <summary>The block in a debug_getRawBlock answer; null when the node lacks it.</summary>
    private static Block? RawBlock(JsonRpcAnswer answer, JsonRpcCall call, ulong number)
    {
        if (IsMissing(answer, call))
        {
            return null;
        }
        if (!TryDecodeHex(answer.Result, out var rlp))
        {
            throw new PeerException($"raw block #{number} is not hex bytes");
        }
        using (rlp)
        {
            return Block.TryDecode(rlp.Span, out var block, out var error)
                ? block
                : throw new PeerException($"raw block #{number} does not decode: {error}");
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

using System.Diagnostics;
using System.Globalization;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Storage.Chain;
using EngineSkeleton.Testing.Chains;

namespace EngineSkeleton.Benchmarks.RpcSync;

/// <summary>
/// <c>rpcsync --store-probe N</c>: the chain store alone, as the backfill writes it — <see cref="ChainStore.TryWriteCanonical"/>
/// per run of 128 blocks of a generated chain (empty bodies), into a fresh on-disk store, one thread, no peer — timed
/// by tenths of N. Says whether the store's write rate falls as its collections grow, apart from anything the network
/// or the sync does, and how many bytes it holds a block.
/// </summary>
internal static class StoreGrowthProbe
{
    public static int Run(ulong blocks, string root, int run)
    {
        var chain = GeneratedChain.Headers(blocks + 1, seed: 7);
        var dir = Path.Combine(root, "store-probe");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "chain.db");
        Console.WriteLine(Inv($"store probe: {blocks:N0} empty blocks written by TryWriteCanonical in runs of {run}, into {path}; load average {ProcessMeasure.LoadAverage()}"));
        var store = ChainStore.Open(path);
        store.Initialize(new Block(chain[0], GeneratedChain.EmptyBody));
        var tenth = blocks / 10;
        var batch = new List<Block>(run);
        var clock = Stopwatch.StartNew();
        var cpu = ProcessMeasure.ProcessCpu();
        var last = 0.0;
        var lastCpu = cpu;
        for (var n = 1UL; n <= blocks; n++)
        {
            batch.Add(new Block(chain[(int)n], GeneratedChain.EmptyBody));
            if (batch.Count == run || n == blocks)
            {
                store.TryWriteCanonical(batch);
                batch = new List<Block>(run);
            }
            if (n % tenth == 0)
            {
                var now = clock.Elapsed.TotalSeconds;
                var nowCpu = ProcessMeasure.ProcessCpu();
                var bytes = Directory.EnumerateFiles(dir).Sum(f => new FileInfo(f).Length);
                Console.WriteLine(Inv($"  to #{n,9:N0}: {tenth / (now - last),8:N0} blocks/s, CPU {(nowCpu - lastCpu).TotalMicroseconds / tenth,5:F0} µs/block; files {bytes / 1_000_000.0,7:F1} MB = {bytes / (double)n:F0} B/block; RSS {ProcessMeasure.Rss("VmRSS") / 1_000_000:N0} MB"));
                last = now;
                lastCpu = nowCpu;
            }
        }
        Console.WriteLine(Inv($"store probe: {blocks / clock.Elapsed.TotalSeconds:N0} blocks/s over {blocks:N0} blocks; load average {ProcessMeasure.LoadAverage()}"));
        store.Dispose();
        Reads(path, chain, blocks);
        return 0;
    }

    /// <summary>
    /// The read side on the store just written, opened again (empty header cache): how long the open takes, the first
    /// HasBlock, and the mean of by-hash lookups of blocks anywhere in the chain (the rare RPC and devp2p case), of
    /// HasBlock on them, of hashes the store does not hold (newPayload's first question), and of canonical headers by number.
    /// </summary>
    private static void Reads(string path, IReadOnlyList<BlockHeader> chain, ulong blocks)
    {
        const int Lookups = 20_000;
        var clock = Stopwatch.StartNew();
        using var store = ChainStore.Open(path);
        store.Initialize(new Block(chain[0], GeneratedChain.EmptyBody));
        var open = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        var first = store.HasBlock(chain[(int)(blocks / 3)].Hash);
        var firstHas = clock.Elapsed.TotalMilliseconds;
        var random = new Random(11);
        var picks = Enumerable.Range(0, Lookups).Select(_ => chain[random.Next(1, (int)blocks + 1)]).ToArray();
        var unknown = Enumerable.Range(0, Lookups).Select(_ =>
        {
            var bytes = new byte[32];
            random.NextBytes(bytes);
            return new EngineSkeleton.Core.Primitives.Hash256(bytes);
        }).ToArray();
        double Mean(Func<int, bool> lookup)
        {
            var found = 0;
            clock.Restart();
            for (var i = 0; i < Lookups; i++)
            {
                found += lookup(i) ? 1 : 0;
            }
            var mean = clock.Elapsed.TotalMicroseconds / Lookups;
            return found == Lookups || found == 0 ? mean : throw new InvalidOperationException($"{found} of {Lookups} lookups found");
        }
        var headers = Mean(i => store.GetHeader(picks[i].Hash) is not null);
        var has = Mean(i => store.HasBlock(picks[(i + 7) % Lookups].Hash));
        var missing = Mean(i => !store.HasBlock(unknown[i]));
        var canonical = Mean(i => store.GetCanonicalHeader(picks[(i + 13) % Lookups].Number) is not null);
        Console.WriteLine(Inv($"reads after reopening: open {open:F0} ms; first HasBlock {firstHas:F2} ms ({first}); means over {Lookups:N0} random blocks: GetHeader by hash {headers:F1} µs, HasBlock {has:F1} µs, HasBlock of an unknown hash {missing:F1} µs, GetCanonicalHeader {canonical:F1} µs"));
    }

    /// <summary>
    /// <c>--raw-keys random|sequential</c>: the same documents (~1.1 KB: key, number, header, body) straight into a bare
    /// LiteDB collection, 128 a transaction, keyed by the block hash (random order, today's layout) or by number‖hash
    /// (insertion order): whether the random-key _id index is what grows the cost.
    /// </summary>
    public static int RunRaw(ulong blocks, string root, int run, bool sequential, string? index = null, int checkpoint = 1000)
    {
        var chain = GeneratedChain.Headers(blocks + 1, seed: 7);
        var dir = Path.Combine(root, "raw-probe");
        Directory.CreateDirectory(dir);
        using var db = new LiteDB.LiteDatabase(new LiteDB.ConnectionString { Filename = Path.Combine(dir, "raw.db"), Connection = LiteDB.ConnectionType.Direct });
        db.CheckpointSize = checkpoint;
        var collection = db.GetCollection("blocks");
        var hashes = db.GetCollection("hashes");
        Console.WriteLine(Inv($"raw probe: {blocks:N0} documents, {(sequential ? "number‖hash" : "hash")} keys, {run} a transaction, hash index {index ?? "none"}, checkpoint every {checkpoint} pages"));
        var tenth = blocks / 10;
        var clock = Stopwatch.StartNew();
        var last = 0.0;
        var lastCpu = ProcessMeasure.ProcessCpu();
        var body = GeneratedChain.EmptyBody.Encode();
        db.BeginTrans();
        for (var n = 1UL; n <= blocks; n++)
        {
            var header = chain[(int)n];
            var hash = header.Hash.ToArray();
            byte[] key;
            if (sequential)
            {
                key = new byte[40];
                System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(key, n);
                hash.CopyTo(key, 8);
            }
            else
            {
                key = hash;
            }
            collection.Insert(new LiteDB.BsonDocument { ["_id"] = key, ["number"] = (long)n, ["header"] = header.Encode(), ["body"] = body });
            if (index == "hash")
            {
                hashes.Insert(new LiteDB.BsonDocument { ["_id"] = hash, ["n"] = (long)n });
            }
            else if (index == "prefix")
            {
                hashes.Insert(new LiteDB.BsonDocument { ["_id"] = System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(hash), ["n"] = (long)n });
            }
            if (n % (ulong)run == 0)
            {
                db.Commit();
                db.BeginTrans();
            }
            if (n % tenth == 0)
            {
                var now = clock.Elapsed.TotalSeconds;
                var nowCpu = ProcessMeasure.ProcessCpu();
                Console.WriteLine(Inv($"  to #{n,9:N0}: {tenth / (now - last),8:N0} docs/s, CPU {(nowCpu - lastCpu).TotalMicroseconds / tenth,5:F0} µs/doc"));
                last = now;
                lastCpu = nowCpu;
            }
        }
        db.Commit();
        return 0;
    }

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

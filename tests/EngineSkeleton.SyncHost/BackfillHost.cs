using System.Globalization;
using System.Text;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Validation;
using EngineSkeleton.Storage.Chain;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Backfill;
using EngineSkeleton.Sync.Beacon;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Sync.Skeleton;
using EngineSkeleton.Testing.Chains;
using EngineSkeleton.Testing.Peers;

namespace EngineSkeleton.SyncHost;

/// <summary>
/// The <c>--backfill</c> run: skeleton sync, link to the chain store, body backfill to head N, all resumable from
/// the datadir after a kill. See <see cref="Program"/> for the lines it prints.
/// </summary>
internal static class BackfillHost
{
    /// <summary>The chain store's file under the datadir (the node's name for it too).</summary>
    public const string ChainFile = "chain.db";

    public static async Task<int> RunAsync(HostArgs options)
    {
        var chain = GeneratedChain.Headers(options.Headers + 1, options.Seed, bodies: BodyProfile.Mixed);
        var bodies = GeneratedChain.Bodies(chain);
        var numbers = NumbersByHash(chain);
        using var store = SkeletonStore.OpenInDataDir(options.DataDir);
        using var blocks = ChainStore.Open(Path.Combine(options.DataDir, ChainFile));
        blocks.Initialize(new Block(chain[0], bodies[0]!));
        Program.Print($"start headers={options.Headers} seed={options.Seed} peers={options.Peers} stored={Program.Describe(store.LoadProgress())} chain={blocks.HeadHeader.Number}");

        var peers = new PeerSet(TimeProvider.System);
        var filler = new Backfiller(blocks, store, peers, new BlockValidator(GeneratedChain.SpecFor(chain)), TimeProvider.System, new Program.StandardErrorLogger<Backfiller>());
        var canonical = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Called after each run's blocks are written and made canonical: a printed head is committed.
        filler.AfterRun = head =>
        {
            Program.Print($"filled head={head.Number}");
            if (head.Number == options.Headers)
            {
                canonical.TrySetResult();
            }
        };
        var sync = new SkeletonSync(store, peers, filler, new ChainLink(blocks), TimeProvider.System, new Program.StandardErrorLogger<SkeletonSync>());
        try
        {
            for (var i = 0; i < options.Peers; i++)
            {
                var id = $"peer{i}";
                sync.AddPeer(new InProcessPeer(id, chain, bodies)
                {
                    OnRequest = (request, _) =>
                    {
                        if (request.Kind == PeerRequestKind.Bodies)
                        {
                            Program.Print($"bodies peer={id} numbers={Ranges(request.Hashes, numbers)}");
                        }
                        return Task.CompletedTask;
                    },
                });
            }
            sync.Start();
            if (blocks.HeadHeader.Number == options.Headers)
            {
                canonical.TrySetResult(); // a kill after the last fill, before the exit
            }
            // The beacon node's finalized block a quarter up: the fill freezes the blocks up to it and keeps the rest in
            // LiteDB, so kills land in both (docs/decisions.md, Frozen blocks).
            var outcome = await sync.SyncAsync(chain[(int)options.Headers], FinalizedNumber(options.Headers), force: true);
            if (outcome != SyncRequestOutcome.Accepted)
            {
                await Console.Error.WriteLineAsync($"synchost: the forced head was refused ({outcome})");
                return 1;
            }
            await canonical.Task;
        }
        finally
        {
            await sync.DisposeAsync(); // suspends the backfiller; the skeleton deletes the headers it consumed
        }
        ulong left = 0;
        for (var n = 1UL; n <= options.Headers; n++)
        {
            left += store.GetHeader(n) is null ? 0UL : 1UL;
        }
        Program.Print($"canonical head={blocks.HeadHeader.Number} skeleton={left}");
        return blocks.HeadHeader.Hash == chain[(int)options.Headers].Hash ? 0 : 1;
    }

    /// <summary>The finalized number the run announces with its head.</summary>
    public static ulong FinalizedNumber(ulong headers) => headers / 4;

    /// <summary>Block numbers by hash, from the parent hashes (no header is hashed twice).</summary>
    private static Dictionary<Hash256, ulong> NumbersByHash(IReadOnlyList<BlockHeader> chain)
    {
        var numbers = new Dictionary<Hash256, ulong>(chain.Count);
        for (var n = 1; n < chain.Count; n++)
        {
            numbers[chain[n].ParentHash] = (ulong)(n - 1);
        }
        numbers[chain[^1].Hash] = (ulong)(chain.Count - 1);
        return numbers;
    }

    /// <summary>The asked numbers as ascending ranges "A-B,C-D"; an unknown hash is "?".</summary>
    private static string Ranges(IReadOnlyList<Hash256> hashes, Dictionary<Hash256, ulong> numbers)
    {
        var asked = hashes.Select(h => numbers.TryGetValue(h, out var n) ? (long)n : -1).Order().ToList();
        var text = new StringBuilder();
        for (var i = 0; i < asked.Count;)
        {
            var j = i;
            while (j + 1 < asked.Count && asked[j + 1] == asked[j] + 1 && asked[i] >= 0)
            {
                j++;
            }
            text.Append(text.Length == 0 ? "" : ",");
            text.Append(asked[i] < 0 ? "?" : string.Create(CultureInfo.InvariantCulture, $"{asked[i]}-{asked[j]}"));
            i = j + 1;
        }
        return text.ToString();
    }
}

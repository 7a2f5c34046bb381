using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Sync.Skeleton;

namespace EngineSkeleton.Sync.Beacon;

/// <summary>
/// The facade the Engine API talks to: heads go to the skeleton loop, headers by hash come from peers, and the
/// status merges what the beacon node announced with what the skeleton holds.
/// </summary>
/// <param name="skeleton">The skeleton loop heads are handed to.</param>
/// <param name="peers">The peers headers by hash are asked of.</param>
/// <param name="numberOf">The number of a block the local chain holds, or null if it holds none with that hash.</param>
/// <param name="localHead">The canonical head's number: where a sync starts from (eth_syncing's startingBlock).</param>
/// <param name="payloadNumberOf">
/// The number of a payload newPayload brought whose parent is unknown (geth's remoteBlocks), or null: with
/// <paramref name="numberOf"/>, what the announced finalized hash is resolved by. The skeleton records that number, and
/// the backfill freezes the blocks at and below it (docs/decisions.md, Frozen blocks).
/// </param>
public sealed class BeaconSync(SkeletonSync skeleton, PeerSet peers, Func<Hash256, ulong?> numberOf, Func<ulong>? localHead = null,
    Func<Hash256, ulong?>? payloadNumberOf = null) : IBeaconSync
{
    private readonly Lock _lock = new();
    private Hash256? _announced;
    private ulong? _announcedNumber;
    private ulong? _startingBlock;

    public Task<SyncRequestOutcome> SyncAsync(BlockHeader head, Hash256 finalized, bool force)
    {
        lock (_lock)
        {
            if (force || _announcedNumber is null || head.Number > _announcedNumber)
            {
                NoteSyncStart();
                (_announced, _announcedNumber) = (head.Hash, head.Number);
            }
        }
        return skeleton.SyncAsync(head, FinalizedNumber(head, finalized), force);
    }

    private ulong? FinalizedNumber(BlockHeader head, Hash256 finalized)
    {
        if (finalized.IsZero)
        {
            return null;
        }
        return finalized == head.Hash ? head.Number : numberOf(finalized) ?? payloadNumberOf?.Invoke(finalized);
    }

    public void Announce(Hash256 head, Hash256 finalized)
    {
        lock (_lock)
        {
            NoteSyncStart();
            (_announced, _announcedNumber) = (head, null);
        }
    }

    /// <summary>
    /// A sync begins when a head is announced while none is outstanding (none yet, or the last one is held): the
    /// canonical head then is where it started from, as geth's syncStatsChainOrigin. Heads announced while one is
    /// outstanding (a beacon node repeats its forkchoice every slot) continue the same sync. Called under the lock.
    /// </summary>
    private void NoteSyncStart()
    {
        if (_announced is not { } previous || numberOf(previous) is not null)
        {
            _startingBlock = localHead?.Invoke();
        }
    }

    /// <summary>Asks peers, fastest first, one at a time, until one answers with exactly this header or the bound passes.</summary>
    public async Task<BlockHeader?> FetchHeaderAsync(Hash256 hash, TimeSpan bound)
    {
        using var deadline = new CancellationTokenSource(bound);
        foreach (var peer in peers.IdlePeersFastestFirst())
        {
            try
            {
                var header = await peer.GetHeaderByHashAsync(hash, deadline.Token).ConfigureAwait(false);
                if (header is not null && header.Hash == hash)
                {
                    return header;
                }
            }
            catch (OperationCanceledException)
            {
                return null;
            }
            catch (PeerException)
            {
                // Try the next peer; the skeleton's own requests judge this one.
            }
        }
        return null;
    }

    public SyncHealth Health() => skeleton.Health;

    public BeaconSyncStatus Status()
    {
        var snapshot = skeleton.Snapshot;
        // The peer set as it is now, not as the loop's last snapshot saw it: the backfiller serves bodies and drops
        // peers outside the loop, and a sync that ends in the backfiller publishes no further snapshot.
        var live = peers.Status();
        var subchains = snapshot.Progress?.Subchains.Select(s => new SubchainStatus(s.Head, s.Tail, s.Next)).ToArray() ?? [];
        lock (_lock)
        {
            return new BeaconSyncStatus(
                _announced,
                _announcedNumber,
                snapshot.Progress?.Finalized,
                subchains,
                snapshot.Linked,
                live.Count == 0 && snapshot.State != SyncState.Linked && _announced is not null ? SyncState.WaitingForPeers : snapshot.State,
                snapshot.Downloaded,
                snapshot.HeadersPerSecond,
                live,
                _startingBlock,
                skeleton.Health,
                snapshot.AnotherChain);
        }
    }
}

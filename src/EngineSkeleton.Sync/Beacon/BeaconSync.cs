using EngineSkeleton.Blocks;
using EngineSkeleton.Primitives;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Sync.Skeleton;

namespace EngineSkeleton.Sync.Beacon;

/// <summary>
/// The facade the Engine API talks to: heads go to the skeleton loop, headers by hash come from peers, and the
/// status merges what the beacon node announced with what the skeleton holds.
/// </summary>
public sealed class BeaconSync(SkeletonSync skeleton, PeerSet peers, Func<Hash256, ulong?> numberOf) : IBeaconSync
{
    private readonly Lock _lock = new();
    private Hash256? _announced;
    private ulong? _announcedNumber;

    public Task<SyncRequestOutcome> SyncAsync(BlockHeader head, Hash256 finalized, bool force)
    {
        lock (_lock)
        {
            if (force || _announcedNumber is null || head.Number > _announcedNumber)
            {
                (_announced, _announcedNumber) = (head.Hash, head.Number);
            }
        }
        return skeleton.SyncAsync(head, finalized.IsZero ? null : numberOf(finalized), force);
    }

    public void Announce(Hash256 head, Hash256 finalized)
    {
        lock (_lock)
        {
            (_announced, _announcedNumber) = (head, null);
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
                live.Count == 0 && snapshot.State != "linked" && _announced is not null ? "waiting for peers" : snapshot.State,
                snapshot.Downloaded,
                snapshot.HeadersPerSecond,
                live);
        }
    }
}

using EngineSkeleton.Blocks;
using EngineSkeleton.Primitives;

namespace EngineSkeleton.Sync.Beacon;

/// <summary>
/// A beacon sync facade with no syncer behind it: it keeps the newest announced head so skeleton_status shows what
/// the beacon node asked for. Used where no skeleton runs (tests of the Engine API alone).
/// </summary>
public sealed class AnnouncedHeads : IBeaconSync
{
    private readonly Lock _lock = new();
    private Hash256? _head;
    private ulong? _number;

    public Task<SyncRequestOutcome> SyncAsync(BlockHeader head, Hash256 finalized, bool force)
    {
        lock (_lock)
        {
            // A non-forced head may only extend the current one, as in geth; anything else changes nothing.
            if (!force && _head is { } current && !(head.ParentHash == current && head.Number == _number + 1))
            {
                return Task.FromResult(SyncRequestOutcome.RefusedNotExtending);
            }
            (_head, _number) = (head.Hash, head.Number);
            return Task.FromResult(SyncRequestOutcome.Accepted);
        }
    }

    public Task<BlockHeader?> FetchHeaderAsync(Hash256 hash, TimeSpan bound) => Task.FromResult<BlockHeader?>(null);

    public void Announce(Hash256 head, Hash256 finalized)
    {
        lock (_lock)
        {
            (_head, _number) = (head, null);
        }
    }

    public BeaconSyncStatus Status()
    {
        lock (_lock)
        {
            return new BeaconSyncStatus(_head, _number, null, [], Linked: false, State: _head is null ? "idle" : "waiting for peers");
        }
    }
}

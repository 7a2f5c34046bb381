using EngineSkeleton.Blocks;
using EngineSkeleton.Primitives;

namespace EngineSkeleton.Sync.Beacon;

/// <summary>
/// The beacon sync facade before a skeleton runs behind it: it keeps the newest announced head (forced or an
/// extension of the last) so that skeleton_status shows what the beacon node asked for. It downloads nothing;
/// the skeleton loop (brief §4) replaces it.
/// </summary>
public sealed class AnnouncedHeads : IBeaconSync
{
    private readonly Lock _lock = new();
    private Hash256? _head;
    private ulong? _number;
    private Hash256? _finalized;

    public SyncRequestOutcome Sync(BlockHeader head, Hash256 finalized, bool force)
    {
        lock (_lock)
        {
            // A non-forced head may only extend the current one, as in geth; anything else changes nothing.
            if (!force && _head is { } current && !(head.ParentHash == current && head.Number == _number + 1))
            {
                return SyncRequestOutcome.RefusedNotExtending;
            }
            _head = head.Hash;
            _number = head.Number;
            if (force || !finalized.IsZero)
            {
                _finalized = finalized.IsZero ? _finalized : finalized;
            }
            return SyncRequestOutcome.Accepted;
        }
    }

    public void Announce(Hash256 head, Hash256 finalized)
    {
        lock (_lock)
        {
            _head = head;
            _number = null;
            _finalized = finalized.IsZero ? _finalized : finalized;
        }
    }

    public BeaconSyncStatus Status()
    {
        lock (_lock)
        {
            return new BeaconSyncStatus(_head, _number, _finalized, [], Linked: false, State: _head is null ? "idle" : "waiting for peers");
        }
    }
}

using EngineSkeleton.Primitives;

namespace EngineSkeleton.Server.Engine;

/// <summary>
/// Blocks found invalid, with the last valid ancestor each one descends from, so that a later newPayload or
/// forkchoiceUpdated on them or their descendants answers INVALID at once. Bounded: the oldest entry goes first
/// (geth keeps 512; a beacon node does not revisit older bad blocks).
/// </summary>
internal sealed class InvalidBlocks
{
    public const int Capacity = 512;

    private readonly Dictionary<Hash256, Hash256?> _lastValid = new(Capacity);
    private readonly Queue<Hash256> _order = new(Capacity);
    private readonly Lock _lock = new();

    public void Add(Hash256 hash, Hash256? lastValidAncestor)
    {
        lock (_lock)
        {
            if (_lastValid.TryAdd(hash, lastValidAncestor))
            {
                _order.Enqueue(hash);
                if (_order.Count > Capacity)
                {
                    _lastValid.Remove(_order.Dequeue());
                }
            }
        }
    }

    public bool TryGet(Hash256 hash, out Hash256? lastValidAncestor)
    {
        lock (_lock)
        {
            return _lastValid.TryGetValue(hash, out lastValidAncestor);
        }
    }
}

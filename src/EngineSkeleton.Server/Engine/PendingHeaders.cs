using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;

namespace EngineSkeleton.Server.Engine;

/// <summary>
/// Headers of payloads whose parent was unknown, kept so that a later forkchoiceUpdated on them can start a sync
/// without asking peers. Bounded to the last 96, as geth's payload queue (docs/sync.md, Engine wiring).
/// </summary>
internal sealed class PendingHeaders
{
    public const int Capacity = 96;

    private readonly Dictionary<Hash256, BlockHeader> _byHash = new(Capacity);
    private readonly Queue<Hash256> _order = new(Capacity);
    private readonly Lock _lock = new();

    public void Add(BlockHeader header)
    {
        lock (_lock)
        {
            if (_byHash.TryAdd(header.Hash, header))
            {
                _order.Enqueue(header.Hash);
                if (_order.Count > Capacity)
                {
                    _byHash.Remove(_order.Dequeue());
                }
            }
        }
    }

    public BlockHeader? Get(Hash256 hash)
    {
        lock (_lock)
        {
            return _byHash.GetValueOrDefault(hash);
        }
    }
}

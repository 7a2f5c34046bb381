using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;

namespace EngineSkeleton.Storage.Chain;

/// <summary>A bounded first-in-first-out cache of headers by hash; thread-safe, allocation only on insert.</summary>
internal sealed class HeaderCache(int capacity)
{
    private readonly Dictionary<Hash256, BlockHeader> _byHash = new(capacity);
    private readonly Queue<Hash256> _order = new(capacity);
    private readonly Lock _lock = new();

    public bool Contains(Hash256 hash)
    {
        lock (_lock)
        {
            return _byHash.ContainsKey(hash);
        }
    }

    public bool TryGet(Hash256 hash, out BlockHeader header)
    {
        lock (_lock)
        {
            return _byHash.TryGetValue(hash, out header!);
        }
    }

    public void Add(BlockHeader header)
    {
        lock (_lock)
        {
            if (!_byHash.TryAdd(header.Hash, header))
            {
                return;
            }
            _order.Enqueue(header.Hash);
            if (_order.Count > capacity)
            {
                _byHash.Remove(_order.Dequeue());
            }
        }
    }
}

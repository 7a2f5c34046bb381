using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;

namespace EngineSkeleton.Sync.Beacon;

/// <summary>
/// Blocks the node refuses, shared by the Engine API and the backfiller (go-ethereum's invalidTipsets, in our
/// words): blocks found invalid with the last valid ancestor each descends from, so that a newPayload or
/// forkchoiceUpdated on them or a descendant answers INVALID at once; and heads whose sync would rewind the
/// canonical chain below the finalized block (-38006). Bounded: the oldest entry goes first (geth keeps 512
/// tipsets; a beacon node does not revisit older bad blocks).
/// </summary>
public sealed class InvalidBlocks
{
    public const int Capacity = 512;

    /// <summary>
    /// Descendants remembered for the latest bad block found by the backfiller: the skeleton headers between it and
    /// the skeleton head, newest first. 131,072 is the skeleton's scratch window (geth's scratchHeaders), so a head
    /// the beacon node can still name is covered; 4 MiB of hashes at most.
    /// </summary>
    public const int MaxDescendants = 131_072;

    /// <summary>Heads refused as too deep a reorg; a beacon node names few heads below its finality.</summary>
    public const int TooDeepCapacity = 64;

    private readonly Dictionary<Hash256, Hash256?> _lastValid = new(Capacity);
    private readonly Queue<Hash256> _order = new(Capacity);
    private readonly HashSet<Hash256> _tooDeep = [];
    private readonly Queue<Hash256> _tooDeepOrder = new(TooDeepCapacity);
    private readonly Lock _lock = new();
    private HashSet<Hash256> _descendants = [];
    private Hash256? _descendantsLastValid;

    public void Add(Hash256 hash, Hash256? lastValidAncestor)
    {
        lock (_lock)
        {
            AddLocked(hash, lastValidAncestor);
        }
    }

    /// <summary>
    /// A bad block found while filling, with the skeleton headers above it (<paramref name="descendants"/>, at most
    /// <see cref="MaxDescendants"/> are kept): the block, every one of them and whatever builds on them answer INVALID
    /// with <paramref name="lastValidAncestor"/>. Replaces the previous bad block's descendants.
    /// </summary>
    public void AddBadChain(Hash256 bad, Hash256 lastValidAncestor, IReadOnlyList<Hash256> descendants)
    {
        ArgumentNullException.ThrowIfNull(descendants);
        var set = new HashSet<Hash256>(Math.Min(descendants.Count, MaxDescendants));
        for (var i = 0; i < descendants.Count && set.Count < MaxDescendants; i++)
        {
            set.Add(descendants[i]);
        }
        lock (_lock)
        {
            AddLocked(bad, lastValidAncestor);
            if (descendants.Count > 0)
            {
                AddLocked(descendants[0], lastValidAncestor); // the skeleton head, as geth marks the sync's origin
            }
            _descendants = set;
            _descendantsLastValid = lastValidAncestor;
        }
    }

    /// <summary>Whether this block itself was found invalid (or is a descendant remembered as one).</summary>
    public bool TryGet(Hash256 hash, out Hash256? lastValidAncestor)
    {
        lock (_lock)
        {
            if (_lastValid.TryGetValue(hash, out lastValidAncestor))
            {
                return true;
            }
            if (_descendants.Contains(hash))
            {
                lastValidAncestor = _descendantsLastValid;
                return true;
            }
            return false;
        }
    }

    /// <summary>
    /// Whether <paramref name="header"/> is invalid or descends from an invalid block: itself or its parent is known
    /// bad. A header found so through its parent is remembered too, so a chain built on a bad block stays refused
    /// one block at a time (geth's checkInvalidAncestor).
    /// </summary>
    public bool TryGetAncestor(BlockHeader header, out Hash256? lastValidAncestor)
    {
        ArgumentNullException.ThrowIfNull(header);
        if (TryGet(header.Hash, out lastValidAncestor))
        {
            return true;
        }
        if (TryGet(header.ParentHash, out lastValidAncestor))
        {
            Add(header.Hash, lastValidAncestor);
            return true;
        }
        return false;
    }

    /// <summary>A head whose sync would rewind the canonical chain below the finalized block.</summary>
    public void AddTooDeep(Hash256 head)
    {
        lock (_lock)
        {
            if (_tooDeep.Add(head))
            {
                _tooDeepOrder.Enqueue(head);
                if (_tooDeepOrder.Count > TooDeepCapacity)
                {
                    _tooDeep.Remove(_tooDeepOrder.Dequeue());
                }
            }
        }
    }

    public bool IsTooDeep(Hash256 head)
    {
        lock (_lock)
        {
            return _tooDeep.Contains(head);
        }
    }

    private void AddLocked(Hash256 hash, Hash256? lastValidAncestor)
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

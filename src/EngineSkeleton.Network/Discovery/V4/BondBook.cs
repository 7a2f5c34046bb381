using System.Net;
using EngineSkeleton.Network.DevP2p.Rlpx;

namespace EngineSkeleton.Network.Discovery.V4;

/// <summary>
/// When a node last proved itself at an address (geth's node database fields lastPongReceived and lastPingReceived,
/// keyed by id and IP), bounded: at the capacity the oldest entry goes. Thread-safe.
/// </summary>
internal sealed class BondBook(int capacity)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(NodeId, IPAddress), LinkedListNode<Entry>> _index = [];
    private readonly LinkedList<Entry> _order = new();

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _index.Count;
            }
        }
    }

    public void Record(NodeId id, IPAddress address, DateTimeOffset at)
    {
        var key = (id, Normalize(address));
        lock (_gate)
        {
            if (_index.Remove(key, out var existing))
            {
                _order.Remove(existing);
            }
            _index[key] = _order.AddLast(new Entry(key, at));
            while (_index.Count > capacity && _order.First is { } oldest)
            {
                _order.RemoveFirst();
                _index.Remove(oldest.Value.Key);
            }
        }
    }

    /// <summary>True if the node proved itself at this address less than <paramref name="maxAge"/> before <paramref name="now"/>.</summary>
    public bool IsFresh(NodeId id, IPAddress address, DateTimeOffset now, TimeSpan maxAge)
    {
        lock (_gate)
        {
            return _index.TryGetValue((id, Normalize(address)), out var entry) && now - entry.Value.At < maxAge;
        }
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private sealed record Entry((NodeId, IPAddress) Key, DateTimeOffset At);
}

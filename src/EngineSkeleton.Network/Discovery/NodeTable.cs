using System.Net;
using System.Net.Sockets;
using EngineSkeleton.Core.Primitives;

namespace EngineSkeleton.Network.Discovery;

/// <summary>What <see cref="NodeTable.Add"/> did with a node.</summary>
internal enum TableAddResult
{
    /// <summary>Now in its bucket.</summary>
    Added,

    /// <summary>Its bucket was full: kept among the bucket's replacements.</summary>
    AddedAsReplacement,

    /// <summary>Already in its bucket; its record was taken if its sequence number is higher.</summary>
    AlreadyPresent,

    /// <summary>Already among the replacements; left as it was (as geth leaves it).</summary>
    AlreadyReplacement,

    /// <summary>Its /24 already has as many nodes as the bucket or the table allows.</summary>
    IpLimit,

    /// <summary>No usable address (unspecified), or our own id.</summary>
    Refused,
}

/// <summary>
/// The Kademlia table of discv4 as a pure data structure (no I/O, no clock, no randomness): one bucket per log distance
/// from our id (1 to 256), each holding up to <see cref="BucketSize"/> nodes, most recently seen first, and up to
/// <see cref="MaxReplacements"/> replacements, newest first. Addresses are limited per /24 as geth limits them: at
/// most <see cref="BucketIpLimit"/> in a bucket and <see cref="TableIpLimit"/> in the table, replacements counted,
/// LAN addresses (loopback, private, link-local) exempt. geth folds the 239 nearest distances into one bucket (17
/// buckets in all); with 256 the nearest buckets are simply almost always empty, and the nodes kept are the same for
/// all but ids within 2^239 of ours. Not thread-safe: one owner (the discovery loop) calls it.
/// </summary>
internal sealed class NodeTable
{
    /// <summary>Kademlia's k, geth's bucketSize.</summary>
    public const int BucketSize = 16;

    /// <summary>geth's maxReplacements.</summary>
    public const int MaxReplacements = 10;

    /// <summary>geth's bucketIPLimit and tableIPLimit, both per /24 (bucketSubnet, tableSubnet).</summary>
    public const int BucketIpLimit = 2;

    public const int TableIpLimit = 10;

    public const int SubnetBits = 24;

    private const int BucketCount = 256;

    private readonly Bucket[] _buckets = new Bucket[BucketCount];
    private readonly SubnetCounter _tableIps = new(TableIpLimit);

    public NodeTable(Hash256 self)
    {
        Self = self;
        for (var i = 0; i < BucketCount; i++)
        {
            _buckets[i] = new Bucket();
        }
    }

    public Hash256 Self { get; }

    /// <summary>Nodes in buckets (replacements not counted).</summary>
    public int Count => _buckets.Sum(bucket => bucket.Entries.Count);

    /// <summary>The entries of the bucket at log distance <paramref name="distance"/> (1 to 256), most recently seen first.</summary>
    public IReadOnlyList<DiscoveryNode> BucketAt(int distance) => BucketFor(distance).Entries;

    /// <summary>The replacements of the bucket at log distance <paramref name="distance"/>, newest first.</summary>
    public IReadOnlyList<DiscoveryNode> ReplacementsAt(int distance) => BucketFor(distance).Replacements;

    public bool Contains(Hash256 id) => Find(id) is not null;

    public DiscoveryNode? Find(Hash256 id) =>
        id == Self ? null : _buckets[NodeDistance.Log(Self, id) - 1].Entries.Find(node => node.Id == id);

    /// <summary>
    /// Adds a node (geth's handleAddNode): into its bucket if there is room and its /24 is under the limits, else
    /// among the replacements. A node already in the bucket takes the new record only if its sequence number is
    /// higher, and a new address only if it fits the limits; its place in the bucket does not change.
    /// </summary>
    public TableAddResult Add(DiscoveryNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (node.Id == Self || !IsUsable(node.Address))
        {
            return TableAddResult.Refused;
        }
        var bucket = _buckets[NodeDistance.Log(Self, node.Id) - 1];
        var index = bucket.Entries.FindIndex(entry => entry.Id == node.Id);
        if (index >= 0)
        {
            Update(bucket, index, node);
            return TableAddResult.AlreadyPresent;
        }
        if (bucket.Entries.Count >= BucketSize)
        {
            return AddReplacement(bucket, node);
        }
        if (!TryAddIp(bucket, node.Address))
        {
            return TableAddResult.IpLimit;
        }
        RemoveReplacement(bucket, node.Id);
        bucket.Entries.Add(node);
        return TableAddResult.Added;
    }

    /// <summary>The node answered (a Pong, say): it moves to the front of its bucket. False if it is not in one.</summary>
    public bool Seen(Hash256 id)
    {
        if (id == Self)
        {
            return false;
        }
        var bucket = _buckets[NodeDistance.Log(Self, id) - 1];
        var index = bucket.Entries.FindIndex(entry => entry.Id == id);
        if (index < 0)
        {
            return false;
        }
        var node = bucket.Entries[index];
        bucket.Entries.RemoveAt(index);
        bucket.Entries.Insert(0, node);
        return true;
    }

    /// <summary>
    /// The node failed its liveness check: it leaves its bucket and the newest replacement takes its place (geth takes
    /// a random one; the newest keeps this deterministic). Returns the replacement, or null if there was none.
    /// </summary>
    public DiscoveryNode? Stale(Hash256 id)
    {
        if (id == Self)
        {
            return null;
        }
        var bucket = _buckets[NodeDistance.Log(Self, id) - 1];
        var index = bucket.Entries.FindIndex(entry => entry.Id == id);
        if (index < 0)
        {
            return null;
        }
        RemoveIp(bucket, bucket.Entries[index].Address);
        bucket.Entries.RemoveAt(index);
        if (bucket.Replacements.Count == 0)
        {
            return null;
        }
        // Its address was counted when it became a replacement, so it moves without a new check.
        var replacement = bucket.Replacements[0];
        bucket.Replacements.RemoveAt(0);
        bucket.Entries.Add(replacement);
        return replacement;
    }

    /// <summary>Removes a node from its bucket and its replacements, without promoting anyone. False if absent.</summary>
    public bool Remove(Hash256 id)
    {
        if (id == Self)
        {
            return false;
        }
        var bucket = _buckets[NodeDistance.Log(Self, id) - 1];
        var index = bucket.Entries.FindIndex(entry => entry.Id == id);
        if (index >= 0)
        {
            RemoveIp(bucket, bucket.Entries[index].Address);
            bucket.Entries.RemoveAt(index);
            return true;
        }
        return RemoveReplacement(bucket, id);
    }

    /// <summary>The node to check next in a bucket: the one seen least recently (its last), or null if it is empty.</summary>
    public DiscoveryNode? LeastRecentlySeen(int distance) => BucketFor(distance).Entries is { Count: > 0 } entries ? entries[^1] : null;

    /// <summary>Up to <paramref name="count"/> nodes of the buckets (not replacements), nearest to <paramref name="target"/> by XOR first.</summary>
    public IReadOnlyList<DiscoveryNode> Closest(Hash256 target, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var all = new List<DiscoveryNode>();
        foreach (var bucket in _buckets)
        {
            all.AddRange(bucket.Entries);
        }
        all.Sort((a, b) => NodeDistance.Compare(target, a.Id, b.Id));
        return all.Count <= count ? all : all.GetRange(0, count);
    }

    private Bucket BucketFor(int distance)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(distance, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(distance, BucketCount);
        return _buckets[distance - 1];
    }

    private void Update(Bucket bucket, int index, DiscoveryNode node)
    {
        var current = bucket.Entries[index];
        if (node.Seq <= current.Seq)
        {
            return;
        }
        if (!Equals(node.Address, current.Address))
        {
            RemoveIp(bucket, current.Address);
            if (!TryAddIp(bucket, node.Address))
            {
                TryAddIp(bucket, current.Address);
                return;
            }
        }
        bucket.Entries[index] = node;
    }

    private TableAddResult AddReplacement(Bucket bucket, DiscoveryNode node)
    {
        if (bucket.Replacements.Exists(entry => entry.Id == node.Id))
        {
            return TableAddResult.AlreadyReplacement;
        }
        if (!TryAddIp(bucket, node.Address))
        {
            return TableAddResult.IpLimit;
        }
        bucket.Replacements.Insert(0, node);
        if (bucket.Replacements.Count > MaxReplacements)
        {
            RemoveIp(bucket, bucket.Replacements[^1].Address);
            bucket.Replacements.RemoveAt(bucket.Replacements.Count - 1);
        }
        return TableAddResult.AddedAsReplacement;
    }

    private bool RemoveReplacement(Bucket bucket, Hash256 id)
    {
        var index = bucket.Replacements.FindIndex(entry => entry.Id == id);
        if (index < 0)
        {
            return false;
        }
        RemoveIp(bucket, bucket.Replacements[index].Address);
        bucket.Replacements.RemoveAt(index);
        return true;
    }

    /// <summary>geth's addIP: LAN addresses always fit; others must fit the table's limit and then the bucket's.</summary>
    private bool TryAddIp(Bucket bucket, IPAddress address)
    {
        if (IsLan(address))
        {
            return true;
        }
        if (!_tableIps.TryAdd(address))
        {
            return false;
        }
        if (!bucket.Ips.TryAdd(address))
        {
            _tableIps.Remove(address);
            return false;
        }
        return true;
    }

    private void RemoveIp(Bucket bucket, IPAddress address)
    {
        if (IsLan(address))
        {
            return;
        }
        _tableIps.Remove(address);
        bucket.Ips.Remove(address);
    }

    private static bool IsUsable(IPAddress address) =>
        address is not null && !address.Equals(IPAddress.Any) && !address.Equals(IPAddress.IPv6Any)
        && address.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6;

    /// <summary>geth's netutil.AddrIsLAN: loopback, RFC 1918 / RFC 4193 private, or link-local unicast.</summary>
    internal static bool IsLan(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (IPAddress.IsLoopback(address))
        {
            return true;
        }
        var bytes = address.GetAddressBytes();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return bytes[0] == 10
                || (bytes[0] == 172 && (bytes[1] & 0xf0) == 16)
                || (bytes[0] == 192 && bytes[1] == 168)
                || (bytes[0] == 169 && bytes[1] == 254);
        }
        return (bytes[0] & 0xfe) == 0xfc || address.IsIPv6LinkLocal;
    }

    private sealed class Bucket
    {
        public List<DiscoveryNode> Entries { get; } = new(BucketSize);

        public List<DiscoveryNode> Replacements { get; } = new(MaxReplacements + 1);

        public SubnetCounter Ips { get; } = new(BucketIpLimit);
    }

    /// <summary>geth's DistinctNetSet: how many addresses share each /24 prefix (of IPv4 and IPv6 alike), up to a limit.</summary>
    private sealed class SubnetCounter(int limit)
    {
        private readonly Dictionary<(AddressFamily, int), int> _counts = [];

        public bool TryAdd(IPAddress address)
        {
            var key = Key(address);
            var count = _counts.GetValueOrDefault(key);
            if (count >= limit)
            {
                return false;
            }
            _counts[key] = count + 1;
            return true;
        }

        public void Remove(IPAddress address)
        {
            var key = Key(address);
            if (_counts.TryGetValue(key, out var count))
            {
                if (count <= 1)
                {
                    _counts.Remove(key);
                }
                else
                {
                    _counts[key] = count - 1;
                }
            }
        }

        private static (AddressFamily, int) Key(IPAddress address)
        {
            if (address.IsIPv4MappedToIPv6)
            {
                address = address.MapToIPv4();
            }
            var bytes = address.GetAddressBytes();
            return (address.AddressFamily, (bytes[0] << 16) | (bytes[1] << 8) | bytes[2]);
        }
    }
}

using System.Buffers.Binary;
using EngineSkeleton.Core.Primitives;
using LiteDB;

namespace EngineSkeleton.Storage.Chain;

/// <summary>
/// The chain store's hash → number index, kept out of random order (docs/decisions.md, Storage at mainnet scale).
/// Blocks are grouped in epochs of 2^<see cref="EpochBits"/> numbers. The open epochs (the head's, the one before it,
/// and any above the head) live in memory and are rebuilt at open from <c>blocks</c>' keys, which start with the
/// number, and from the frozen files' records: the files hold everything a crash could lose. An epoch closes once the head is <see cref="OpenEpochs"/>
/// epochs past it: its hashes are written once, sorted, into <c>hashes</c> (keyed epoch‖bucket, so the writes append
/// at the end of the index), with a Bloom filter in <c>blooms</c>, in the transaction that moved the head. A block
/// written into a closed epoch later (a side branch delivered late) is merged into its bucket and its epoch's filter.
/// Writes go through a <see cref="Stage"/> that touches memory only once its transaction has committed.
/// </summary>
internal sealed class HashIndex
{
    /// <summary>
    /// Epochs kept open behind the head's: a side branch up to a full epoch deep still lands in memory; anything older
    /// is a rare merge into a closed epoch.
    /// </summary>
    public const int OpenEpochs = 2;

    /// <summary>Bytes an entry of a bucket: the hash, then the number's low 16 bits, big-endian.</summary>
    private const int EntrySize = Hash256.Size + 2;

    private readonly int _bucketBits;
    private readonly Lock _lock = new();

    /// <summary>Hashes of the open epochs; replaced whole by <see cref="Load"/>. Under <see cref="_lock"/>.</summary>
    private Dictionary<Hash256, ulong> _open = [];

    /// <summary>Closed epochs' filters, newest first; copied on write.</summary>
    private volatile EpochBloom[] _closed = [];

    /// <param name="epochBits">Numbers an epoch, as a power of two (16 in the node; tests use small epochs).</param>
    public HashIndex(int epochBits)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(epochBits, 16); // the low bits are stored in two bytes
        ArgumentOutOfRangeException.ThrowIfNegative(epochBits);
        EpochBits = epochBits;
        // ~128 hashes a bucket in a full epoch: a bucket document (~4.4 KB) fits one LiteDB page.
        _bucketBits = Math.Max(0, epochBits - 7);
    }

    public int EpochBits { get; }

    /// <summary>The newest closed epoch; −1 when none is. Written under the store's write lock.</summary>
    public long ClosedThrough { get; private set; } = -1;

    public long EpochOf(ulong number) => (long)(number >> EpochBits);

    /// <summary>The number's place in its epoch.</summary>
    private ushort Low(ulong number) => (ushort)(number & ((1UL << EpochBits) - 1));

    /// <summary>
    /// Reads the index back from the file: the closed epochs' filters, and the open epochs' hashes from the keys of
    /// <paramref name="blocks"/> at and above the first open epoch (an index-only scan: no document is read) and from
    /// the frozen blocks there (<paramref name="frozenFrom"/>: their (hash, number) from a number up).
    /// </summary>
    public void Load(long closedThrough, ILiteCollection<BsonDocument> blocks, ILiteCollection<BsonDocument> blooms,
        Func<ulong, IEnumerable<(Hash256 Hash, ulong Number)>> frozenFrom)
    {
        var closed = blooms.FindAll().Select(d => EpochBloom.FromBytes(d["_id"].AsInt64, d["bits"].AsBinary)).OrderByDescending(b => b.Epoch).ToArray();
        var open = new Dictionary<Hash256, ulong>();
        var firstOpen = (ulong)(closedThrough + 1) << EpochBits;
        foreach (var (hash, number) in frozenFrom(firstOpen))
        {
            open[hash] = number;
        }
        var from = BlockKey(firstOpen, Hash256.Zero);
        foreach (var doc in blocks.Query().Where("$._id >= @0", from).Select("$._id").ToDocuments())
        {
            var key = doc["_id"].AsBinary;
            open[new Hash256(key.AsSpan(8))] = BinaryPrimitives.ReadUInt64BigEndian(key);
        }
        lock (_lock)
        {
            _closed = closed;
            _open = open;
            ClosedThrough = closedThrough;
        }
    }

    /// <summary>
    /// Whether block <paramref name="number"/>‖<paramref name="hash"/> is stored, when memory alone can tell: its epoch
    /// is open. Null for a number in a closed epoch (the caller asks the file).
    /// </summary>
    public bool? HoldsOpen(ulong number, Hash256 hash)
    {
        lock (_lock)
        {
            if (EpochOf(number) <= ClosedThrough)
            {
                return null;
            }
            return _open.TryGetValue(hash, out var stored) && stored == number;
        }
    }

    /// <summary>The number of the stored block <paramref name="hash"/>, or null: memory first, then closed epochs, newest first.</summary>
    public ulong? Find(Hash256 hash, ILiteCollection<BsonDocument> hashes)
    {
        lock (_lock)
        {
            if (_open.TryGetValue(hash, out var number))
            {
                return number;
            }
        }
        // An epoch being closed is published here before it leaves _open (Stage.Apply), so no hash falls between.
        foreach (var bloom in _closed)
        {
            if (bloom.MayContain(hash) && FindInBucket(hashes.FindById(BucketKey(bloom.Epoch, hash)), hash) is { } low)
            {
                return ((ulong)bloom.Epoch << EpochBits) | low;
            }
        }
        return null;
    }

    /// <summary>Starts the index side of one write transaction.</summary>
    public Stage Begin(ILiteCollection<BsonDocument> hashes, ILiteCollection<BsonDocument> blooms) => new(this, hashes, blooms);

    /// <summary><c>blocks</c>' key: the number, 8 bytes big-endian, then the hash; insertion order for a chain written forward.</summary>
    public static byte[] BlockKey(ulong number, Hash256 hash)
    {
        var key = new byte[8 + Hash256.Size];
        BinaryPrimitives.WriteUInt64BigEndian(key, number);
        hash.CopyTo(key.AsSpan(8));
        return key;
    }

    /// <summary><c>hashes</c>' key: the epoch, 4 bytes big-endian, then the bucket (the hash's top bits), 2 bytes.</summary>
    private byte[] BucketKey(long epoch, Hash256 hash) => BucketKey(epoch, Bucket(hash));

    private static byte[] BucketKey(long epoch, int bucket)
    {
        var key = new byte[6];
        BinaryPrimitives.WriteUInt32BigEndian(key, checked((uint)epoch));
        BinaryPrimitives.WriteUInt16BigEndian(key.AsSpan(4), (ushort)bucket);
        return key;
    }

    private int Bucket(Hash256 hash) => _bucketBits == 0 ? 0 : BinaryPrimitives.ReadUInt16BigEndian(hash.Bytes) >> (16 - _bucketBits);

    /// <summary>The low bits of the hash's number in a bucket document (entries sorted by hash), or null.</summary>
    private static ulong? FindInBucket(BsonDocument? bucket, Hash256 hash)
    {
        if (bucket is null)
        {
            return null;
        }
        var entries = bucket["e"].AsBinary;
        var at = Search(entries, hash);
        return at >= 0 ? BinaryPrimitives.ReadUInt16BigEndian(entries.AsSpan((at * EntrySize) + Hash256.Size)) : null;
    }

    /// <summary>Binary search over sorted entries: the index of <paramref name="hash"/>, or the complement of where it goes.</summary>
    private static int Search(byte[] entries, Hash256 hash)
    {
        int lo = 0, hi = (entries.Length / EntrySize) - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var c = entries.AsSpan(mid * EntrySize, Hash256.Size).SequenceCompareTo(hash.Bytes);
            if (c == 0)
            {
                return mid;
            }
            if (c < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return ~lo;
    }

    /// <summary>
    /// The index's part of one write transaction, under the store's write lock: writes go to LiteDB inside the
    /// transaction, and to memory in <see cref="Apply"/>, once it has committed; a failed transaction's stage is dropped.
    /// </summary>
    internal sealed class Stage(HashIndex index, ILiteCollection<BsonDocument> hashes, ILiteCollection<BsonDocument> blooms)
    {
        private readonly Dictionary<Hash256, ulong> _added = [];
        private readonly Dictionary<long, EpochBloom> _changed = [];

        /// <summary>The newest closed epoch as this transaction leaves it.</summary>
        public long ClosedThrough { get; set; } = index.ClosedThrough;

        /// <summary>Indexes a block this transaction writes.</summary>
        public void Add(ulong number, Hash256 hash)
        {
            var epoch = index.EpochOf(number);
            if (epoch > ClosedThrough)
            {
                _added[hash] = number;
                return;
            }
            // Into a closed epoch: merge into its bucket and filter (rare: a side branch more than an epoch deep).
            var key = index.BucketKey(epoch, hash);
            var entries = hashes.FindById(key)?["e"].AsBinary ?? [];
            var at = Search(entries, hash);
            if (at >= 0)
            {
                return; // written before
            }
            at = ~at;
            var merged = new byte[entries.Length + EntrySize];
            entries.AsSpan(0, at * EntrySize).CopyTo(merged);
            WriteEntry(merged.AsSpan(at * EntrySize), index.Low(number), hash);
            entries.AsSpan(at * EntrySize).CopyTo(merged.AsSpan((at + 1) * EntrySize));
            hashes.Upsert(new BsonDocument { ["_id"] = key, ["e"] = merged });
            if (!_changed.TryGetValue(epoch, out var bloom))
            {
                bloom = index._closed.FirstOrDefault(b => b.Epoch == epoch)?.Copy() ?? EpochBloom.Empty(epoch, index.EpochBits);
                _changed[epoch] = bloom;
            }
            bloom.Add(hash);
            blooms.Upsert(new BsonDocument { ["_id"] = epoch, ["bits"] = bloom.ToBytes() });
        }

        /// <summary>
        /// Closes every open epoch up to <paramref name="through"/>: each one's hashes written sorted, bucket after
        /// bucket (appends: its key prefix is above every earlier epoch's), and its filter. The caller records
        /// <see cref="ClosedThrough"/> in the same transaction.
        /// </summary>
        public void Close(long through)
        {
            if (through <= ClosedThrough)
            {
                return;
            }
            var closing = new SortedDictionary<long, List<(Hash256 Hash, ulong Number)>>();
            void Take(Hash256 hash, ulong number)
            {
                var epoch = index.EpochOf(number);
                if (epoch <= through)
                {
                    if (!closing.TryGetValue(epoch, out var list))
                    {
                        closing[epoch] = list = [];
                    }
                    list.Add((hash, number));
                }
            }
            lock (index._lock)
            {
                foreach (var (hash, number) in index._open)
                {
                    if (!_added.ContainsKey(hash))
                    {
                        Take(hash, number);
                    }
                }
            }
            foreach (var (hash, number) in _added)
            {
                Take(hash, number);
            }
            foreach (var (epoch, entries) in closing)
            {
                entries.Sort((a, b) => a.Hash.CompareTo(b.Hash));
                var bloom = EpochBloom.Empty(epoch, index.EpochBits);
                for (var start = 0; start < entries.Count;)
                {
                    var bucket = index.Bucket(entries[start].Hash);
                    var end = start + 1;
                    while (end < entries.Count && index.Bucket(entries[end].Hash) == bucket)
                    {
                        end++;
                    }
                    var bytes = new byte[(end - start) * EntrySize];
                    for (var i = start; i < end; i++)
                    {
                        WriteEntry(bytes.AsSpan((i - start) * EntrySize), index.Low(entries[i].Number), entries[i].Hash);
                        bloom.Add(entries[i].Hash);
                    }
                    hashes.Insert(new BsonDocument { ["_id"] = BucketKey(epoch, bucket), ["e"] = bytes });
                    start = end;
                }
                blooms.Insert(new BsonDocument { ["_id"] = epoch, ["bits"] = bloom.ToBytes() });
                _changed[epoch] = bloom;
            }
            ClosedThrough = through;
        }

        /// <summary>After the commit: publishes closed epochs' filters first, then moves the open hashes.</summary>
        public void Apply()
        {
            if (_changed.Count > 0)
            {
                index._closed = [.. index._closed.Where(b => !_changed.ContainsKey(b.Epoch)).Concat(_changed.Values).OrderByDescending(b => b.Epoch)];
            }
            lock (index._lock)
            {
                foreach (var (hash, number) in _added)
                {
                    index._open[hash] = number;
                }
                if (ClosedThrough != index.ClosedThrough)
                {
                    foreach (var (hash, number) in index._open)
                    {
                        if (index.EpochOf(number) <= ClosedThrough)
                        {
                            index._open.Remove(hash);
                        }
                    }
                    index.ClosedThrough = ClosedThrough;
                }
            }
        }

        private static void WriteEntry(Span<byte> entry, ushort low, Hash256 hash)
        {
            hash.CopyTo(entry);
            BinaryPrimitives.WriteUInt16BigEndian(entry[Hash256.Size..], low);
        }
    }
}

using System.Buffers;
using System.Buffers.Binary;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using Microsoft.Win32.SafeHandles;

namespace EngineSkeleton.Storage.Chain;

/// <summary>
/// Canonical blocks that can no longer leave the chain, kept out of LiteDB in two append-only files beside chain.db, as
/// geth's freezer keeps its ancient tables (docs/decisions.md, Frozen blocks): <c>chain-frozen.dat</c>, each block's
/// header RLP then its body RLP, one block after another; <c>chain-frozen.idx</c>, one fixed-width record a block
/// (where its bytes end, its header's length, its hash). Numbers run from <see cref="First"/> without a gap. A block is
/// written once and never rewritten: no log, no index node, no checkpoint copying it a second time.
/// What counts is what LiteDB holds: the chain store commits the count and the data's length in its transaction after
/// these files are written and flushed to disk, so a kill -9 or a refused write between the two leaves bytes past the
/// committed end, which the next write overwrites and the next open cuts off. One writer (the store's write lock);
/// readers read committed records only, concurrently, by offset.
/// </summary>
internal sealed class FrozenBlocks : IDisposable
{
    /// <summary>An index record: the block's end offset in the data file (8 bytes), its header's length (4), its hash.</summary>
    public const int RecordSize = 8 + 4 + Hash256.Size;

    private readonly IFrozenFile _data;
    private readonly IFrozenFile _index;

    /// <summary>The transaction's appends, written in one call a file at <see cref="Flush"/>. Under the write lock.</summary>
    private readonly ArrayBufferWriter<byte> _stagedData = new();
    private readonly ArrayBufferWriter<byte> _stagedIndex = new();
    private long _stagedCount;

    /// <summary>Committed state, replaced whole: a reader sees a count and a length that belong together.</summary>
    private volatile Committed _committed = new(0, 0, 0);

    private FrozenBlocks(IFrozenFile data, IFrozenFile index)
    {
        _data = data;
        _index = index;
    }

    /// <summary>The files beside <paramref name="storePath"/> (chain.db → chain-frozen.dat, chain-frozen.idx).</summary>
    public static FrozenBlocks Open(string storePath)
    {
        var dir = Path.GetDirectoryName(storePath)!;
        var stem = Path.GetFileNameWithoutExtension(storePath);
        var data = DiskFile.Open(Path.Combine(dir, stem + "-frozen.dat"));
        try
        {
            return new FrozenBlocks(data, DiskFile.Open(Path.Combine(dir, stem + "-frozen.idx")));
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    public static FrozenBlocks InMemory() => new(new MemoryFile(), new MemoryFile());

    /// <summary>The number of the first frozen block (the anchor's child); 0 before <see cref="Load"/>.</summary>
    public ulong First => _committed.First;

    /// <summary>Committed blocks.</summary>
    public long Count => _committed.Count;

    /// <summary>The committed length of the data file.</summary>
    public long DataLength => _committed.DataLength;

    /// <summary>Blocks written by the transaction in progress, not committed yet.</summary>
    public long StagedCount => _stagedCount;

    /// <summary>The data file's length once the transaction in progress commits.</summary>
    public long StagedDataLength => _committed.DataLength + _stagedData.WrittenCount;

    /// <summary>The newest committed frozen block's number, or null when none is.</summary>
    public ulong? Tip => _committed is { Count: > 0 } c ? c.First + (ulong)c.Count - 1 : null;

    /// <summary>
    /// Takes the committed state from the chain store and cuts each file back to it: bytes past it are a write whose
    /// transaction never committed. A file shorter than its committed length is corrupt.
    /// </summary>
    public void Load(ulong first, long count, long dataLength)
    {
        var indexLength = count * RecordSize;
        if (_index.Length < indexLength || _data.Length < dataLength)
        {
            throw new StoreException(
                $"the frozen block files hold less than the chain store committed ({_index.Length} of {indexLength} index bytes, {_data.Length} of {dataLength} data bytes): the datadir is damaged; use a fresh --datadir");
        }
        _index.SetLength(indexLength);
        _data.SetLength(dataLength);
        Discard();
        _committed = new Committed(first, count, dataLength);
    }

    /// <summary>The hash of frozen block <paramref name="number"/>, or null when it is not frozen.</summary>
    public Hash256? HashAt(ulong number)
    {
        var c = _committed; // one snapshot: a reopen may replace it meanwhile
        if (number < c.First || number - c.First >= (ulong)c.Count)
        {
            return null;
        }
        Span<byte> record = stackalloc byte[RecordSize];
        _index.Read((long)(number - c.First) * RecordSize, record);
        return new Hash256(record[12..]);
    }

    /// <summary>Frozen block <paramref name="number"/>'s header and body RLP, or null when it is not frozen or has another hash.</summary>
    public (byte[] Header, byte[] Body)? Read(ulong number, Hash256 hash) => Read(number, hash, body: true);

    /// <summary>Frozen block <paramref name="number"/>'s header RLP, or null when it is not frozen or has another hash.</summary>
    public byte[]? ReadHeader(ulong number, Hash256 hash) => Read(number, hash, body: false)?.Header;

    /// <summary>(hash, number) of every frozen block from <paramref name="from"/> up: the hash index's open epochs at open.</summary>
    public IEnumerable<(Hash256 Hash, ulong Number)> HashesFrom(ulong from)
    {
        var c = _committed;
        var start = Math.Max(from, c.First);
        var record = new byte[RecordSize];
        for (var n = start; n - c.First < (ulong)c.Count; n++)
        {
            _index.Read((long)(n - c.First) * RecordSize, record);
            yield return (new Hash256(record.AsSpan(12)), n);
        }
    }

    /// <summary>Appends block <paramref name="number"/>, which must follow the last one, to the transaction in progress.</summary>
    public void Append(ulong number, Hash256 hash, ReadOnlySpan<byte> header, BlockBody body)
    {
        var expected = First + (ulong)(Count + _stagedCount);
        if (number != expected)
        {
            throw new InvalidOperationException($"frozen block {number} does not follow the frozen chain, whose next number is {expected}");
        }
        _stagedData.Write(header);
        _stagedData.Advance(body.Encode(_stagedData.GetSpan(body.EncodedLength))); // into the stage: no array a block
        var record = _stagedIndex.GetSpan(RecordSize)[..RecordSize];
        BinaryPrimitives.WriteInt64LittleEndian(record, StagedDataLength);
        BinaryPrimitives.WriteInt32LittleEndian(record[8..], header.Length);
        hash.CopyTo(record[12..]);
        _stagedIndex.Advance(RecordSize);
        _stagedCount++;
    }

    /// <summary>Writes the transaction's appends past the committed ends and flushes both files to disk: before the commit.</summary>
    public void Flush()
    {
        if (_stagedCount == 0)
        {
            return;
        }
        _data.Write(DataLength, _stagedData.WrittenSpan);
        _index.Write(Count * RecordSize, _stagedIndex.WrittenSpan);
        _data.Flush();
        _index.Flush();
    }

    /// <summary>After the chain store's commit: the appends become readable.</summary>
    public void Commit()
    {
        if (_stagedCount > 0)
        {
            var c = _committed;
            _committed = new Committed(c.First, c.Count + _stagedCount, StagedDataLength);
        }
        Discard();
    }

    /// <summary>Drops the transaction's appends (it failed); what they wrote past the committed ends is overwritten later.</summary>
    public void Discard()
    {
        _stagedData.Clear();
        _stagedIndex.Clear();
        _stagedCount = 0;
    }

    /// <summary>The anchor's child is the first block frozen: set once, when the store is initialized.</summary>
    public void Start(ulong first) => _committed = new Committed(first, 0, 0);

    public void Dispose()
    {
        _data.Dispose();
        _index.Dispose();
    }

    private (byte[] Header, byte[] Body)? Read(ulong number, Hash256 hash, bool body)
    {
        var c = _committed;
        if (number < c.First || number - c.First >= (ulong)c.Count)
        {
            return null;
        }
        var at = (long)(number - c.First);
        // This record and the one before it, whose end is where this block starts.
        Span<byte> records = stackalloc byte[2 * RecordSize];
        var record = at == 0 ? records[..RecordSize] : records[RecordSize..];
        if (at == 0)
        {
            _index.Read(0, record);
        }
        else
        {
            _index.Read((at - 1) * RecordSize, records);
        }
        if (!record[12..].SequenceEqual(hash.Bytes))
        {
            return null;
        }
        var start = at == 0 ? 0 : BinaryPrimitives.ReadInt64LittleEndian(records);
        var end = BinaryPrimitives.ReadInt64LittleEndian(record);
        var headerLength = BinaryPrimitives.ReadInt32LittleEndian(record[8..]);
        var header = new byte[headerLength];
        _data.Read(start, header);
        if (!body)
        {
            return (header, []);
        }
        var bodyBytes = new byte[end - start - headerLength];
        _data.Read(start + headerLength, bodyBytes);
        return (header, bodyBytes);
    }

    private sealed record Committed(ulong First, long Count, long DataLength);

    /// <summary>A file written at offsets by one writer and read at offsets by many.</summary>
    private interface IFrozenFile : IDisposable
    {
        long Length { get; }

        void Write(long offset, ReadOnlySpan<byte> bytes);

        /// <summary>Fills <paramref name="bytes"/> from <paramref name="offset"/>; the range is committed, so it is there.</summary>
        void Read(long offset, Span<byte> bytes);

        void Flush();

        void SetLength(long length);
    }

    private sealed class DiskFile(SafeFileHandle handle) : IFrozenFile
    {
        public long Length => RandomAccess.GetLength(handle);

        public static DiskFile Open(string path) =>
            new(File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read));

        public void Write(long offset, ReadOnlySpan<byte> bytes) => RandomAccess.Write(handle, bytes, offset);

        public void Read(long offset, Span<byte> bytes)
        {
            while (bytes.Length > 0)
            {
                var read = RandomAccess.Read(handle, bytes, offset);
                if (read == 0)
                {
                    throw new StoreException($"a frozen block file ends at {offset}, inside a committed record: the datadir is damaged");
                }
                bytes = bytes[read..];
                offset += read;
            }
        }

        public void Flush() => RandomAccess.FlushToDisk(handle);

        public void SetLength(long length) => RandomAccess.SetLength(handle, length);

        public void Dispose() => handle.Dispose();
    }

    private sealed class MemoryFile : IFrozenFile
    {
        private readonly Lock _lock = new();
        private byte[] _bytes = [];
        private long _length;

        public long Length
        {
            get
            {
                lock (_lock)
                {
                    return _length;
                }
            }
        }

        public void Write(long offset, ReadOnlySpan<byte> bytes)
        {
            lock (_lock)
            {
                var end = offset + bytes.Length;
                if (end > _bytes.Length)
                {
                    Array.Resize(ref _bytes, (int)Math.Max(end, _bytes.Length * 2L));
                }
                bytes.CopyTo(_bytes.AsSpan((int)offset));
                _length = Math.Max(_length, end);
            }
        }

        public void Read(long offset, Span<byte> bytes)
        {
            lock (_lock)
            {
                _bytes.AsSpan((int)offset, bytes.Length).CopyTo(bytes);
            }
        }

        public void Flush()
        {
        }

        public void SetLength(long length)
        {
            lock (_lock)
            {
                _length = length;
            }
        }

        public void Dispose()
        {
        }
    }
}

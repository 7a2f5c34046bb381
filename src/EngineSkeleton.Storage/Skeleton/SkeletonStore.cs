using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using LiteDB;

namespace EngineSkeleton.Storage.Skeleton;

/// <summary>
/// The skeleton's own LiteDB file (<c>skeleton.db</c> under the datadir, apart from <c>chain.db</c>): one progress
/// document and the downloaded headers by number. Headers and progress change together in one LiteDB transaction
/// (docs/sync.md), so a kill -9 leaves either the state before a batch or the state after it, never half of one.
/// </summary>
/// <remarks>
/// Headers are stored <see cref="HeadersPerDocument"/> to a document (the RLP of each in a slot by number), not one
/// document per header. Measured with 1,000,000 headers of 637 bytes in reverse, unaligned 512-header transactions
/// on the shared 2-core runner, three rounds: raw per-header Insert 41,000–82,000 headers/s; per header with the
/// Upsert and progress the sync needs 29,000–35,000/s (below docs/quality.md's 80 % by itself); this store 102,000–259,000/s,
/// and a one-thread decode + hash + link + write loop 110,000–136,000/s (138–269 % of the raw per-header rate). Raw
/// Inserts of the same 128-header documents reach 174,000–329,000/s. Groups of 64 and 256 measured no better; 512
/// made single reads 300 KB each. Table and caveats: docs/sync-store.md.
/// One writer at a time; readers may run beside it (the backfiller reads while the skeleton writes).
/// </remarks>
public sealed class SkeletonStore : IDisposable
{
    public const string FileName = "skeleton.db";

    /// <summary>Headers per LiteDB document; see the remarks for the measurement that chose 128.</summary>
    public const int HeadersPerDocument = 128;

    private const string ProgressId = "progress";

    // Replaced (under the write lock) when a failed write left LiteDB's engine unusable: see Reopen.
    private LiteDatabase _db;
    private readonly IDisposable _fileLock;
    private ILiteCollection<BsonDocument> _headers;
    private ILiteCollection<BsonDocument> _meta;

    /// <summary>A write failed for the environment's reason: the engine is opened again before the next use.</summary>
    private volatile bool _broken;
    private readonly Lock _writeLock = new();

    /// <summary>
    /// The last header document read, for the backfiller's forward walk (one document read per
    /// <see cref="HeadersPerDocument"/> headers). Tagged with <see cref="_version"/>, which every write bumps after
    /// its commit, so a document read before a write is never served after it.
    /// </summary>
    private volatile CachedGroup? _cache;
    private long _version;

    /// <summary>Writer only, under the lock: the lowest header document of the last committed batch, as committed.</summary>
    private BsonDocument? _lastGroup;

    /// <summary>The file's full path; null in memory.</summary>
    private readonly string? _path;

    private SkeletonStore((LiteDatabase Database, IDisposable Lock) opened, string? path = null)
    {
        _path = path;
        _db = opened.Database;
        _fileLock = opened.Lock;
        _headers = _db.GetCollection("headers");
        _meta = _db.GetCollection("meta");
    }

    /// <summary>Opens (or creates) the store file at <paramref name="path"/>; <see cref="StoreException"/> if locked or corrupt.</summary>
    public static SkeletonStore Open(string path) => new(LiteDbFiles.Open(path, "skeleton store"), Path.GetFullPath(path));

    /// <summary>Opens (or creates) <see cref="FileName"/> under the datadir.</summary>
    public static SkeletonStore OpenInDataDir(string dataDir) => Open(Path.Combine(dataDir, FileName));

    public static SkeletonStore OpenInMemory() => new(LiteDbFiles.OpenInMemory());

    /// <summary>Data and log file sizes as LiteDB reports them (one small system query).</summary>
    public long ApproximateSizeBytes
    {
        get
        {
            var info = _db.GetCollection("$database").FindAll().First();
            return info["dataFileSize"].AsInt64 + info["logFileSize"].AsInt64;
        }
    }

    /// <summary>A hook run inside the write transaction just before its commit: tests throw from it to show a
    /// failed write leaves nothing behind.</summary>
    internal Action? BeforeCommit { get; set; }

    /// <summary>The stored progress, or null if no sync has started in this datadir.</summary>
    public SkeletonProgress? LoadProgress()
    {
        ReopenIfBroken();
        var doc = _meta.FindById(ProgressId);
        return doc is null ? null : ReadProgress(doc);
    }

    public void SaveProgress(SkeletonProgress progress)
    {
        ArgumentNullException.ThrowIfNull(progress);
        Write(() => PutProgress(progress));
    }

    /// <summary>
    /// Stores <paramref name="headers"/> (any order; a number already stored is overwritten) and
    /// <paramref name="progress"/> in one transaction.
    /// </summary>
    public void WriteBatch(IReadOnlyList<BlockHeader> headers, SkeletonProgress progress)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(progress);
        BsonDocument? lowest = null;
        Write(
            () =>
            {
                // A 512-header batch touches five groups; each is placed in full, then written once. The lowest is
                // usually the next batch's highest (the sync goes down): it is kept so that batch need not read it.
                var last = _lastGroup;
                _lastGroup = null; // it is about to change; a failed transaction must not leave it cached
                var groups = new Dictionary<long, (BsonDocument Document, bool Stored)>();
                for (var i = 0; i < headers.Count; i++)
                {
                    var header = headers[i];
                    var id = GroupOf(header.Number);
                    if (!groups.TryGetValue(id, out var group))
                    {
                        var stored = last is not null && last["_id"].AsInt64 == id ? last : _headers.FindById(id);
                        group = (stored ?? NewGroup(id), stored is not null);
                        groups.Add(id, group);
                        if (lowest is null || id < lowest["_id"].AsInt64)
                        {
                            lowest = group.Document;
                        }
                    }
                    // The RLP the header arrived (and was hashed) as: encoding it again here cost the single writer 0.4–0.6 µs.
                    group.Document["h"].AsArray[SlotOf(header.Number)] = header.EncodedBytes();
                }
                foreach (var (document, stored) in groups.Values)
                {
                    if (stored)
                    {
                        _headers.Update(document);
                    }
                    else
                    {
                        _headers.Insert(document);
                    }
                }
                PutProgress(progress);
            },
            committed: () => _lastGroup = lowest);
    }

    /// <summary>The stored header at <paramref name="number"/>, or null.</summary>
    public BlockHeader? GetHeader(ulong number)
    {
        ReopenIfBroken();
        var id = GroupOf(number);
        var cache = _cache;
        if (cache is null || cache.Id != id || cache.Version != Volatile.Read(ref _version))
        {
            var version = Volatile.Read(ref _version);
            cache = new CachedGroup(id, version, _headers.FindById(id)?["h"].AsArray);
            _cache = cache;
        }
        var slot = cache.Slots?[SlotOf(number)];
        return slot is null || slot.IsNull ? null : BlockHeader.Decode(slot.AsBinary);
    }

    /// <summary>
    /// Deletes the headers numbered <paramref name="fromInclusive"/>..<paramref name="toInclusive"/> (an empty range
    /// when from &gt; to) and stores <paramref name="progress"/>, in one transaction: for trims and for headers the
    /// backfiller has consumed (geth's cleanStales).
    /// </summary>
    public void DeleteHeaders(ulong fromInclusive, ulong toInclusive, SkeletonProgress progress)
    {
        ArgumentNullException.ThrowIfNull(progress);
        Write(() =>
        {
            _lastGroup = null;
            if (fromInclusive <= toInclusive)
            {
                var first = GroupOf(fromInclusive);
                var last = GroupOf(toInclusive);
                ClearSlots(first, fromInclusive, toInclusive);
                if (last != first)
                {
                    ClearSlots(last, fromInclusive, toInclusive);
                }
                if (last - first > 1)
                {
                    _headers.DeleteMany(Query.And(Query.GT("_id", first), Query.LT("_id", last)));
                }
            }
            PutProgress(progress);
        });
    }

    /// <summary>
    /// Rewrites the file without its free pages (LiteDB's Rebuild) and returns the bytes saved. Deleting headers frees
    /// LiteDB pages for reuse but never shrinks the file, so a store emptied by the backfill keeps its peak size until
    /// this runs; it copies every live document, which for an emptied store is the progress and a few headers.
    /// LiteDB keeps the old file beside the new one as <c>skeleton-backup.db</c>; it is deleted once the rebuild is done.
    /// Nothing in memory to rebuild.
    /// </summary>
    public long Rebuild()
    {
        if (_path is null)
        {
            return 0;
        }
        lock (_writeLock)
        {
            _lastGroup = null;
            try
            {
                var saved = _db.Rebuild();
                var directory = Path.GetDirectoryName(_path)!;
                var backups = Path.GetFileNameWithoutExtension(_path) + "-backup*" + Path.GetExtension(_path);
                foreach (var backup in Directory.EnumerateFiles(directory, backups))
                {
                    File.Delete(backup);
                }
                return saved;
            }
            finally
            {
                Interlocked.Increment(ref _version);
            }
        }
    }

    public void Dispose()
    {
        _db.Dispose();
        _fileLock.Dispose();
    }

    private static long GroupOf(ulong number) => (long)(number / HeadersPerDocument);

    private static int SlotOf(ulong number) => (int)(number % HeadersPerDocument);

    private static BsonDocument NewGroup(long id) =>
        new() { ["_id"] = id, ["h"] = new BsonArray(Enumerable.Repeat(BsonValue.Null, HeadersPerDocument)) };

    /// <summary>Clears the slots of group <paramref name="id"/> that fall in [from, to]; an emptied group is deleted.</summary>
    private void ClearSlots(long id, ulong from, ulong to)
    {
        var group = _headers.FindById(id);
        if (group is null)
        {
            return;
        }
        var slots = group["h"].AsArray;
        var any = false;
        for (var slot = 0; slot < HeadersPerDocument; slot++)
        {
            var number = ((ulong)id * HeadersPerDocument) + (ulong)slot;
            if (number >= from && number <= to)
            {
                slots[slot] = BsonValue.Null;
            }
            any |= !slots[slot].IsNull;
        }
        if (any)
        {
            _headers.Upsert(group);
        }
        else
        {
            _headers.Delete(id);
        }
    }

    private void PutProgress(SkeletonProgress progress)
    {
        var subchains = new BsonArray();
        foreach (var subchain in progress.Subchains)
        {
            subchains.Add(new BsonDocument
            {
                ["head"] = (long)subchain.Head,
                ["tail"] = (long)subchain.Tail,
                ["next"] = subchain.Next.ToArray(),
            });
        }
        _meta.Upsert(new BsonDocument
        {
            ["_id"] = ProgressId,
            ["subchains"] = subchains,
            ["finalized"] = progress.Finalized is { } finalized ? (long)finalized : BsonValue.Null,
        });
    }

    private static SkeletonProgress ReadProgress(BsonDocument doc)
    {
        var subchains = new List<Subchain>();
        if (doc["subchains"] is not { IsArray: true } array)
        {
            throw Corrupt("no subchain list");
        }
        foreach (var item in array.AsArray)
        {
            if (item is not BsonDocument sub
                || sub["head"] is not { IsInt64: true } head
                || sub["tail"] is not { IsInt64: true } tail
                || sub["next"] is not { IsBinary: true } next
                || next.AsBinary.Length != Hash256.Size)
            {
                throw Corrupt($"malformed subchain {item}");
            }
            subchains.Add(new Subchain((ulong)head.AsInt64, (ulong)tail.AsInt64, new Hash256(next.AsBinary)));
        }
        var finalized = doc["finalized"];
        if (!finalized.IsNull && !finalized.IsInt64)
        {
            throw Corrupt($"malformed finalized number {finalized}");
        }
        return new SkeletonProgress(subchains, finalized.IsNull ? null : (ulong)finalized.AsInt64);
    }

    private static StoreException Corrupt(string what) =>
        new($"skeleton store is corrupt: the progress document has {what}; delete {FileName} to download the headers again");

    /// <summary>One transaction under the writer lock; readers' cached group is invalidated once it is committed.</summary>
    private void Write(Action write, Action? committed = null)
    {
        lock (_writeLock)
        {
            ReopenIfBroken();
            _db.BeginTrans();
            try
            {
                write();
                BeforeCommit?.Invoke();
                _db.Commit();
                committed?.Invoke();
            }
            catch (Exception e)
            {
                StoreErrors.Rollback(_db);
                if (StoreErrors.Environment(e, "skeleton store", _path) is { } environment)
                {
                    _lastGroup = null;
                    _broken = _path is not null; // an in-memory engine never met a disk: the failure was injected
                    throw environment;
                }
                throw;
            }
            finally
            {
                Interlocked.Increment(ref _version);
            }
        }
    }

    /// <summary>
    /// Opens the file again after a write the environment refused (<see cref="LiteDbFiles.Reopen"/>): the store then
    /// reads what was committed and writes again once the disk takes writes. Throws the environment's
    /// <see cref="StoreException"/> while the file cannot be opened.
    /// </summary>
    private void ReopenIfBroken()
    {
        if (!_broken)
        {
            return;
        }
        lock (_writeLock)
        {
            if (!_broken)
            {
                return;
            }
            try
            {
                _db = LiteDbFiles.Reopen(_db, _path!);
            }
            catch (Exception e) when (StoreErrors.Environment(e, "skeleton store", _path) is { } environment)
            {
                throw environment;
            }
            _headers = _db.GetCollection("headers");
            _meta = _db.GetCollection("meta");
            _lastGroup = null;
            Interlocked.Increment(ref _version);
            _broken = false;
        }
    }

    private sealed record CachedGroup(long Id, long Version, BsonArray? Slots);
}

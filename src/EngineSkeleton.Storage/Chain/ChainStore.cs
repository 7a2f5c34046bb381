using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using LiteDB;

namespace EngineSkeleton.Storage.Chain;

/// <summary>
/// The node's chain in LiteDB (<c>chain.db</c> under the datadir): blocks keyed by number‖hash, so a chain written
/// forward appends at the end of the index (docs/decisions.md, Storage at mainnet scale); the hash → number index
/// (<see cref="HashIndex"/>); the canonical number → hash index; and the forkchoice pointers. Canonical blocks the
/// caller says can no longer leave the chain are written instead to append-only files beside it
/// (<see cref="FrozenBlocks"/>), which are then their canonical index too. Every change is one LiteDB transaction (the
/// frozen files' committed length in it), so a kill -9 leaves either the old or the new state. Writers are serialized
/// here; readers go straight to LiteDB (thread-safe), the frozen files, the header cache or the hash index.
/// </summary>
public sealed class ChainStore : IDisposable
{
    /// <summary>Headers kept in memory: the parents of what newPayload sees and what forkchoice walks back over.</summary>
    private const int HeaderCacheSize = 4096;

    private const string Head = "head";
    private const string Safe = "safe";
    private const string Finalized = "finalized";
    private const string Genesis = "genesis";
    private const string FormatEntry = "format";
    private const string Closed = "closed";
    private const string Frozen = "frozen";

    /// <summary>
    /// The layout this build writes and reads. 1 (no format entry) keyed blocks by hash, which made every write land at
    /// a random place in the index: a store of that layout is refused, not converted. 2 had no frozen files: it is read
    /// as a store with none frozen, and marked 3 at open so that a build without them no longer opens it.
    /// </summary>
    private const int Format = 3;

    private const int FormatWithoutFrozen = 2;

    /// <summary>Blocks an epoch of the hash index, as a power of two: 65,536 (docs/decisions.md).</summary>
    private const int EpochBits = 16;

    // Replaced (under the write lock) when a failed write left LiteDB's engine unusable: see ReopenIfBroken.
    private LiteDatabase _db;
    private readonly IDisposable _fileLock;
    private ILiteCollection<BsonDocument> _blocks;
    private ILiteCollection<BsonDocument> _canonical;
    private ILiteCollection<BsonDocument> _meta;
    private ILiteCollection<BsonDocument> _hashes;
    private ILiteCollection<BsonDocument> _blooms;
    private readonly HashIndex _index;
    private readonly FrozenBlocks _frozen;

    /// <summary>The index side of the write transaction in progress; null outside one. Under the write lock.</summary>
    private HashIndex.Stage? _stage;

    /// <summary>A write failed for the environment's reason: the engine is opened again before the next write.</summary>
    private volatile bool _broken;
    private readonly Lock _writeLock = new();
    private readonly HeaderCache _headers = new(HeaderCacheSize);
    private volatile BlockHeader? _head;
    private volatile BlockHeader? _anchor;
    private Hash256? _safe;
    private Hash256? _finalized;

    /// <summary>The file's full path; null in memory.</summary>
    private readonly string? _path;

    private ChainStore((LiteDatabase Database, IDisposable Lock) opened, string? path, int epochBits)
    {
        _path = path;
        _db = opened.Database;
        _fileLock = opened.Lock;
        (_blocks, _canonical, _meta, _hashes, _blooms) = Collections(_db);
        FrozenBlocks? frozen = null;
        try
        {
            _index = new HashIndex(ReadFormat(epochBits));
            _frozen = frozen = path is null ? FrozenBlocks.InMemory() : FrozenBlocks.Open(path);
            LoadFrozen();
            _index.Load(ReadClosed(), _blocks, _blooms, _frozen.HashesFrom);
        }
        catch
        {
            frozen?.Dispose();
            _db.Dispose();
            _fileLock.Dispose();
            throw;
        }
    }

    public static ChainStore Open(string path) => Open(path, EpochBits);

    public static ChainStore OpenInMemory() => OpenInMemory(EpochBits);

    /// <summary>A store whose hash index closes epochs of 2^<paramref name="epochBits"/> blocks when fresh (tests: small epochs); a used store keeps its own.</summary>
    internal static ChainStore Open(string path, int epochBits) => new(LiteDbFiles.Open(path, "chain store"), Path.GetFullPath(path), epochBits);

    internal static ChainStore OpenInMemory(int epochBits) => new(LiteDbFiles.OpenInMemory(), null, epochBits);

    /// <summary>A hook run inside every write transaction just before its commit: tests throw from it to fail writes.</summary>
    internal Action? BeforeCommit { get; set; }

    /// <summary>The hash index's newest closed epoch (−1: none): tests see that their writes closed epochs.</summary>
    internal long ClosedEpochs => _index.ClosedThrough;

    /// <summary>Blocks in the frozen files: tests see that a write froze them.</summary>
    internal long FrozenCount => _frozen.Count;

    /// <summary>
    /// The highest block that can never leave the canonical chain by this store's layout: the newest frozen block, or
    /// the anchor while none is. A head that branches off below it is refused as a too-deep reorg.
    /// </summary>
    public ulong FrozenThrough => _frozen.Tip ?? AnchorHeader.Number;

    /// <summary>
    /// The newest block that may not leave the canonical chain: the finalized block, or the newest frozen block when
    /// that is higher (frozen before forkchoiceUpdated named a finalized block the chain holds); null when neither is.
    /// </summary>
    public BlockHeader? ImmutableHeader
    {
        get
        {
            var finalized = FinalizedHash is { } hash ? GetHeader(hash) : null;
            if (_frozen.Tip is not { } tip || (finalized is not null && finalized.Number >= tip))
            {
                return finalized;
            }
            return GetCanonicalHeader(tip);
        }
    }

    /// <summary>The canonical head; the genesis (or checkpoint) until something else becomes canonical.</summary>
    public BlockHeader HeadHeader => _head ?? throw new InvalidOperationException("chain store has no genesis yet");

    public Hash256 GenesisHash => ReadMeta(Genesis) ?? throw new InvalidOperationException("chain store has no genesis yet");

    /// <summary>
    /// The block the local chain starts from: the genesis, or a --sync.checkpoint block (README.md (flags)). Nothing below it
    /// is held or needed; the skeleton links to it.
    /// </summary>
    public BlockHeader AnchorHeader => _anchor ?? throw new InvalidOperationException("chain store has no genesis yet");

    /// <summary>The anchor a used store was initialized with, read before <see cref="Initialize"/>; null for a fresh store.</summary>
    public Hash256? StoredAnchor => ReadMeta(Genesis);

    public Hash256? SafeHash
    {
        get
        {
            lock (_writeLock)
            {
                return _safe;
            }
        }
    }

    public Hash256? FinalizedHash
    {
        get
        {
            lock (_writeLock)
            {
                return _finalized;
            }
        }
    }

    /// <summary>
    /// Writes the anchor block (genesis or checkpoint) into an empty store, or checks that a used store holds the same
    /// chain: a datadir never silently switches chains.
    /// </summary>
    public void Initialize(Block anchor)
    {
        lock (_writeLock)
        {
            var stored = ReadMeta(Genesis);
            if (stored is { } known)
            {
                if (known != anchor.Header.Hash && GetHeader(anchor.Header.Hash) is null)
                {
                    throw new StoreException(
                        $"the datadir holds the chain anchored at {known} but this node was started for {anchor.Header.Hash}; use another --datadir");
                }
                _head = GetHeader(ReadMeta(Head) ?? known) ?? throw new StoreException("chain store is corrupt: head block missing");
                _anchor = GetHeader(known) ?? throw new StoreException("chain store is corrupt: anchor block missing");
                _safe = ReadMeta(Safe);
                _finalized = ReadMeta(Finalized);
                if (_frozen.First == 0)
                {
                    // Layout 2 kept no frozen entry: written now, so a reopen after a failed write finds it too.
                    Transact(() => PutFrozen(_anchor.Number + 1, 0, 0));
                    _frozen.Start(_anchor.Number + 1);
                }
                return;
            }
            Transact(() =>
            {
                _meta.Upsert(new BsonDocument { ["_id"] = FormatEntry, ["version"] = Format, ["epochBits"] = _index.EpochBits });
                _stage!.ClosedThrough = _index.EpochOf(anchor.Header.Number) - 1; // nothing below the anchor is ever held
                PutClosed();
                PutFrozen(anchor.Header.Number + 1, 0, 0); // the anchor's child is the first block that can be frozen
                PutBlock(anchor);
                PutCanonical(anchor.Header.Number, anchor.Header.Hash, fresh: true);
                PutMeta(Genesis, anchor.Header.Hash);
                PutMeta(Head, anchor.Header.Hash);
            });
            _head = anchor.Header;
            _anchor = anchor.Header;
            _frozen.Start(anchor.Header.Number + 1);
        }
    }

    public bool HasBlock(Hash256 hash)
    {
        if (_headers.Contains(hash))
        {
            return true;
        }
        EnsureOpen();
        return _index.Find(hash, _hashes) is not null; // the index holds exactly the stored blocks
    }

    public BlockHeader? GetHeader(Hash256 hash)
    {
        if (_headers.TryGet(hash, out var cached))
        {
            return cached;
        }
        EnsureOpen();
        return _index.Find(hash, _hashes) is { } number ? ReadHeader(number, hash) : null;
    }

    public BlockBody? GetBody(Hash256 hash)
    {
        EnsureOpen();
        return FindBlock(hash) is { } block ? BlockBody.Decode(block.Body) : null;
    }

    public Block? GetBlock(Hash256 hash)
    {
        EnsureOpen();
        return FindBlock(hash) is { } block ? new Block(BlockHeader.Decode(block.Header), BlockBody.Decode(block.Body)) : null;
    }

    public Hash256? GetCanonicalHash(ulong number)
    {
        if (number > HeadHeader.Number)
        {
            return null;
        }
        return GetCanonicalHashUnbounded(number);
    }

    /// <summary>Two seeks: the canonical index, then the block by its key.</summary>
    public BlockHeader? GetCanonicalHeader(ulong number) =>
        GetCanonicalHash(number) is { } hash ? HeaderAt(number, hash) : null;

    public bool IsCanonical(BlockHeader header) => GetCanonicalHash(header.Number) == header.Hash;

    /// <summary>Stores a verified block, not (yet) canonical. One transaction.</summary>
    public void WriteBlock(Block block) => WriteBlocks([block]);

    /// <summary>Stores verified blocks in one transaction, none of them canonical yet.</summary>
    public void WriteBlocks(IReadOnlyList<Block> blocks)
    {
        lock (_writeLock)
        {
            Transact(() =>
            {
                foreach (var block in blocks)
                {
                    PutBlock(block);
                }
            });
        }
        foreach (var block in blocks)
        {
            _headers.Add(block.Header);
        }
    }

    /// <summary>
    /// Makes <paramref name="head"/> the canonical head and records safe/finalized, in one transaction: the canonical
    /// index is rewritten from the common ancestor with the old chain up to the new head, and entries above the new
    /// head are removed. Every ancestor of the head down to the common ancestor must be stored.
    /// </summary>
    public void SetForkchoice(BlockHeader head, Hash256? safe, Hash256? finalized)
    {
        lock (_writeLock)
        {
            var oldHead = HeadHeader;
            if (oldHead.Hash == head.Hash && (safe is null || safe == _safe) && (finalized is null || finalized == _finalized))
            {
                return; // a consensus client repeats its forkchoice every slot: nothing to write
            }
            var branch = BranchOff(head);
            var forkNumber = branch.Count == 0 ? head.Number : branch[^1].Number - 1;
            if (forkNumber < FrozenThrough)
            {
                throw new InvalidOperationException($"head {head.Number} {head.Hash} would take frozen block {forkNumber + 1} off the canonical chain");
            }
            Transact(() =>
            {
                MakeCanonical(oldHead, head, branch);
                if (safe is { } s)
                {
                    PutMeta(Safe, s);
                }
                if (finalized is { } f)
                {
                    PutMeta(Finalized, f);
                }
                CloseEpochs(head);
            });
            _head = head;
            _safe = safe ?? _safe;
            _finalized = finalized ?? _finalized;
        }
    }

    /// <summary>
    /// Stores blocks that continue one another and makes the last one the canonical head, in one transaction: the
    /// canonical index is rewritten from where the first block's parent meets it — a reorg of filled blocks when that
    /// is below the head — and entries above the new head are removed. Safe and finalized stay. For a caller to whom
    /// a run that would take the finalized block off the canonical chain is a bug: that throws. The backfiller, whose
    /// finalized block can move while it fills, uses <see cref="TryWriteCanonical"/>.
    /// </summary>
    public void WriteCanonical(IReadOnlyList<Block> blocks)
    {
        if (TryWriteCanonical(blocks) == CanonicalWrite.BelowFinalized)
        {
            var finalized = FinalizedHash is { } f ? GetHeader(f)?.Number : null;
            throw new InvalidOperationException($"writing block {blocks[0].Header.Number} would rewind below the finalized block {finalized}");
        }
    }

    /// <summary>
    /// <see cref="WriteCanonical"/>, answering <see cref="CanonicalWrite.BelowFinalized"/> and writing nothing when the
    /// first block's parent meets the canonical chain below the finalized block or below <see cref="FrozenThrough"/>
    /// (finalized blocks never leave the canonical chain, docs/sync.md, Backfill). The check is made under the write
    /// lock, with the write: a finalized block moved by forkchoiceUpdated between a caller's own check and its write is
    /// still seen. Blocks numbered at most <paramref name="freezeThrough"/> — the caller's word that they can no longer
    /// leave the chain — go to the frozen files when the run continues a head that is itself frozen (or the anchor).
    /// </summary>
    public CanonicalWrite TryWriteCanonical(IReadOnlyList<Block> blocks, ulong freezeThrough = 0)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        ArgumentOutOfRangeException.ThrowIfZero(blocks.Count);
        var head = blocks[^1].Header;
        lock (_writeLock)
        {
            var oldHead = HeadHeader;
            var parent = ParentOf(blocks[0].Header)
                ?? throw new InvalidOperationException($"parent {blocks[0].Header.ParentHash} of block {blocks[0].Header.Number} is not stored");
            var branch = BranchOff(parent);
            var forkNumber = branch.Count == 0 ? parent.Number : branch[^1].Number - 1;
            if ((_finalized is { } f && GetHeader(f) is { } finalized && finalized.Number > forkNumber) || forkNumber < FrozenThrough)
            {
                return CanonicalWrite.BelowFinalized;
            }
            var frozen = 0;
            if (branch.Count == 0 && parent.Hash == oldHead.Hash && oldHead.Number == FrozenThrough)
            {
                while (frozen < blocks.Count && blocks[frozen].Header.Number <= freezeThrough)
                {
                    frozen++;
                }
            }
            Transact(() =>
            {
                for (var i = 0; i < blocks.Count; i++)
                {
                    if (i < frozen)
                    {
                        FreezeBlock(blocks[i]);
                    }
                    else
                    {
                        PutBlock(blocks[i]);
                    }
                }
                MakeCanonical(oldHead, head, branch);
                for (var i = frozen; i < blocks.Count; i++)
                {
                    PutCanonical(blocks[i].Header.Number, blocks[i].Header.Hash, fresh: blocks[i].Header.Number > oldHead.Number);
                }
                if (frozen > 0)
                {
                    PutFrozen(_frozen.First, _frozen.Count + _frozen.StagedCount, _frozen.StagedDataLength);
                }
                CloseEpochs(head);
            });
            foreach (var block in blocks)
            {
                _headers.Add(block.Header);
            }
            _head = head;
            return CanonicalWrite.Written;
        }
    }

    /// <summary>
    /// True when <paramref name="ancestor"/> is on the chain that ends in <paramref name="head"/> (itself included).
    /// Walks back from the head only until it meets the canonical chain, then answers from the canonical index.
    /// </summary>
    public bool IsAncestor(BlockHeader head, BlockHeader ancestor)
    {
        var h = head;
        while (h.Number > ancestor.Number)
        {
            if (GetCanonicalHashUnbounded(h.Number) == h.Hash)
            {
                return GetCanonicalHashUnbounded(ancestor.Number) == ancestor.Hash;
            }
            var parent = ParentOf(h);
            if (parent is null)
            {
                return false;
            }
            h = parent;
        }
        return h.Hash == ancestor.Hash;
    }

    public void Dispose()
    {
        _frozen.Dispose();
        _db.Dispose();
        _fileLock.Dispose();
    }

    /// <summary>
    /// <paramref name="head"/> and its ancestors that are not canonical, newest first: the branch that becomes
    /// canonical when the head does. Every one of them must be stored.
    /// </summary>
    private List<BlockHeader> BranchOff(BlockHeader head)
    {
        var branch = new List<BlockHeader>();
        for (var h = head; GetCanonicalHashUnbounded(h.Number) != h.Hash;)
        {
            branch.Add(h);
            h = ParentOf(h)
                ?? throw new InvalidOperationException($"ancestor {h.ParentHash} of {head.Hash} is not stored");
        }
        return branch;
    }

    /// <summary>Inside a transaction: drops canonical entries above the new head and indexes the branch.</summary>
    private void MakeCanonical(BlockHeader oldHead, BlockHeader head, List<BlockHeader> branch)
    {
        for (var n = oldHead.Number; n > head.Number; n--)
        {
            _canonical.Delete((long)n);
        }
        foreach (var header in branch)
        {
            PutCanonical(header.Number, header.Hash, fresh: header.Number > oldHead.Number);
        }
        PutMeta(Head, head.Hash);
    }

    private Hash256? GetCanonicalHashUnbounded(ulong number)
    {
        if (_frozen.HashAt(number) is { } frozen)
        {
            return frozen;
        }
        EnsureOpen();
        var doc = _canonical.FindById((long)number);
        return doc is null ? null : new Hash256(doc["hash"].AsBinary);
    }

    /// <summary>
    /// A stored header by number and hash, one seek. The caller knows the number (a canonical entry, a parent):
    /// the hash index is not asked.
    /// </summary>
    private BlockHeader? HeaderAt(ulong number, Hash256 hash)
    {
        if (_headers.TryGet(hash, out var cached))
        {
            return cached;
        }
        EnsureOpen();
        return ReadHeader(number, hash);
    }

    private BlockHeader? ReadHeader(ulong number, Hash256 hash)
    {
        var bytes = _frozen.ReadHeader(number, hash) ?? _blocks.FindById(HashIndex.BlockKey(number, hash))?["header"].AsBinary;
        if (bytes is null)
        {
            return null;
        }
        var header = BlockHeader.Decode(bytes);
        _headers.Add(header);
        return header;
    }

    /// <summary>
    /// The header's parent, sought at the number below it; a block stored under another number (only a block that
    /// failed validation could be) is still found by hash.
    /// </summary>
    private BlockHeader? ParentOf(BlockHeader header) =>
        (header.Number > 0 ? HeaderAt(header.Number - 1, header.ParentHash) : null) ?? GetHeader(header.ParentHash);

    /// <summary>A stored block's header and body RLP: from the frozen files when it is there, else from <c>blocks</c>.</summary>
    private (byte[] Header, byte[] Body)? FindBlock(Hash256 hash)
    {
        if (_index.Find(hash, _hashes) is not { } number)
        {
            return null;
        }
        if (_frozen.Read(number, hash) is { } frozen)
        {
            return frozen;
        }
        return _blocks.FindById(HashIndex.BlockKey(number, hash)) is { } doc ? (doc["header"].AsBinary, doc["body"].AsBinary) : null;
    }

    /// <summary>
    /// Inside a transaction: appends a canonical block to the frozen files (it may also be in <c>blocks</c>, stored by
    /// newPayload before the backfill reached it: the frozen copy is the one read) and indexes its hash unless it is.
    /// </summary>
    private void FreezeBlock(Block block)
    {
        var (number, hash) = (block.Header.Number, block.Header.Hash);
        _frozen.Append(number, hash, block.Header.EncodedBytes(), block.Body);
        if (_index.HoldsOpen(number, hash) != true)
        {
            _stage!.Add(number, hash); // a closed epoch's merge skips a hash it holds
        }
    }

    /// <summary>
    /// Inside a transaction: inserts the block unless it is stored (a block's bytes follow from its hash, so a stored
    /// one is left as it is). The open epochs answer from memory; an insert, not an upsert, spares the B-tree a search.
    /// </summary>
    private void PutBlock(Block block)
    {
        var (number, hash) = (block.Header.Number, block.Header.Hash);
        var key = HashIndex.BlockKey(number, hash);
        if (_index.HoldsOpen(number, hash) ?? (_blocks.FindById(key) is not null))
        {
            return;
        }
        _blocks.Insert(new BsonDocument
        {
            ["_id"] = key,
            ["header"] = block.Header.EncodedBytes(), // the bytes it was decoded or hashed from: no second encoding
            ["body"] = block.Body.Encode(),
        });
        _stage!.Add(number, hash);
    }

    /// <summary>Inside a transaction: closes the epochs the head has left <see cref="HashIndex.OpenEpochs"/> behind.</summary>
    private void CloseEpochs(BlockHeader head)
    {
        var through = _index.EpochOf(head.Number) - HashIndex.OpenEpochs;
        if (through > _stage!.ClosedThrough)
        {
            _stage.Close(through);
            PutClosed();
        }
    }

    private void PutClosed() => _meta.Upsert(new BsonDocument { ["_id"] = Closed, ["epoch"] = _stage!.ClosedThrough });

    private long ReadClosed() => _meta.FindById(Closed)?["epoch"].AsInt64 ?? -1;

    /// <summary>Inside a transaction: the frozen files' state as this transaction leaves them.</summary>
    private void PutFrozen(ulong first, long count, long dataLength) =>
        _meta.Upsert(new BsonDocument { ["_id"] = Frozen, ["first"] = (long)first, ["count"] = count, ["data"] = dataLength });

    /// <summary>The frozen files cut back to what the file says was committed (none before the store is initialized).</summary>
    private void LoadFrozen()
    {
        if (_meta.FindById(Frozen) is { } frozen)
        {
            _frozen.Load((ulong)frozen["first"].AsInt64, frozen["count"].AsInt64, frozen["data"].AsInt64);
        }
        else
        {
            _frozen.Load(0, 0, 0); // a fresh store, or one of layout 2: Initialize writes the entry and starts the files
        }
    }

    /// <summary>
    /// The store's layout: this build's (its epoch size is the file's), or none for a fresh store. A store of
    /// another layout is refused with one line.
    /// </summary>
    private int ReadFormat(int freshEpochBits)
    {
        var format = _meta.FindById(FormatEntry);
        if (format is null)
        {
            if (_meta.FindById(Genesis) is not null || _db.CollectionExists("blocks"))
            {
                throw new StoreException($"chain store {_path} was written in the layout of an older version (blocks keyed by hash), which this node does not read; use a fresh --datadir");
            }
            return freshEpochBits;
        }
        var version = format["version"].AsInt32;
        if (version == FormatWithoutFrozen)
        {
            format["version"] = Format; // read as a store with nothing frozen; a build that cannot read frozen files refuses it from now on
            _meta.Upsert(format);
        }
        else if (version != Format)
        {
            throw new StoreException($"chain store {_path} is in layout {version}, this node reads layout {Format}; use a fresh --datadir");
        }
        return format["epochBits"].AsInt32;
    }

    private static (ILiteCollection<BsonDocument> Blocks, ILiteCollection<BsonDocument> Canonical, ILiteCollection<BsonDocument> Meta,
        ILiteCollection<BsonDocument> Hashes, ILiteCollection<BsonDocument> Blooms) Collections(LiteDatabase db) =>
        (db.GetCollection("blocks"), db.GetCollection("canonical"), db.GetCollection("meta"), db.GetCollection("hashes"), db.GetCollection("blooms"));

    /// <summary>Inside a transaction: <paramref name="fresh"/> when no entry exists at the number (above the old head): an insert.</summary>
    private void PutCanonical(ulong number, Hash256 hash, bool fresh)
    {
        var entry = new BsonDocument { ["_id"] = (long)number, ["hash"] = hash.ToArray() };
        if (fresh)
        {
            _canonical.Insert(entry);
        }
        else
        {
            _canonical.Upsert(entry);
        }
    }

    private void PutMeta(string name, Hash256 hash) =>
        _meta.Upsert(new BsonDocument { ["_id"] = name, ["hash"] = hash.ToArray() });

    private Hash256? ReadMeta(string name)
    {
        EnsureOpen();
        var doc = _meta.FindById(name);
        return doc is null ? null : new Hash256(doc["hash"].AsBinary);
    }

    /// <summary>One transaction; called under the write lock.</summary>
    private void Transact(Action write)
    {
        ReopenIfBroken();
        _db.BeginTrans();
        _stage = _index.Begin(_hashes, _blooms);
        try
        {
            write();
            _frozen.Flush(); // on disk before the commit that counts it
            BeforeCommit?.Invoke();
            _db.Commit();
            _frozen.Commit(); // readable before the hash index names their hashes
            _stage.Apply();
        }
        catch (Exception e)
        {
            _frozen.Discard();
            StoreErrors.Rollback(_db);
            if (StoreErrors.Environment(e, "chain store", _path) is { } environment)
            {
                _broken = _path is not null; // an in-memory engine never met a disk: the failure was injected
                throw environment;
            }
            throw;
        }
        finally
        {
            _stage = null;
        }
    }

    /// <summary>Readers' side of <see cref="ReopenIfBroken"/>: one volatile read while the store is well.</summary>
    private void EnsureOpen()
    {
        if (_broken)
        {
            lock (_writeLock)
            {
                ReopenIfBroken();
            }
        }
    }

    /// <summary>
    /// Under the write lock: opens the file again after a write the environment refused (LiteDbFiles.Reopen), and
    /// reads the forkchoice pointers back from it: a commit that reached the log before the disk refused LiteDB's
    /// checkpoint is kept by the reopen, so the file, not memory, says where the head is. Readers between the failure
    /// and this use the old engine see EnsureOpen.
    /// </summary>
    private void ReopenIfBroken()
    {
        if (!_broken)
        {
            return;
        }
        try
        {
            _db = LiteDbFiles.Reopen(_db, _path!);
        }
        catch (Exception e) when (StoreErrors.Environment(e, "chain store", _path) is { } environment)
        {
            throw environment;
        }
        (_blocks, _canonical, _meta, _hashes, _blooms) = Collections(_db);
        LoadFrozen();
        _index.Load(ReadClosed(), _blocks, _blooms, _frozen.HashesFrom); // a commit the disk refused after its log write is in the file
        _broken = false;
        if (ReadMeta(Head) is { } head && GetHeader(head) is { } header)
        {
            _head = header;
        }
        _safe = ReadMeta(Safe);
        _finalized = ReadMeta(Finalized);
    }
}

/// <summary>What <see cref="ChainStore.TryWriteCanonical"/> did.</summary>
public enum CanonicalWrite
{
    /// <summary>The blocks are stored and the last one is the canonical head.</summary>
    Written,

    /// <summary>
    /// Nothing was written: the blocks branch off the canonical chain below the finalized block, so writing them would
    /// take a finalized block off it.
    /// </summary>
    BelowFinalized,
}

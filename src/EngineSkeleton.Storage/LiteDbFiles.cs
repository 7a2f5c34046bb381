using LiteDB;

namespace EngineSkeleton.Storage;

/// <summary>
/// Opens LiteDB files the one way this node uses them, with clear errors. LiteDB's direct mode does not hold the
/// file exclusively on Linux, so a lock file beside it (held with FileShare.None for the store's lifetime) keeps a
/// second node off the same datadir.
/// </summary>
internal static class LiteDbFiles
{
    public static (LiteDatabase Database, IDisposable Lock) Open(string path, string what)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        FileStream fileLock;
        try
        {
            fileLock = new FileStream(full + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new StoreException($"{what} {full} is locked by another process (is another node running on this datadir?): {e.Message}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new StoreException($"{what} {full} cannot be opened: {e.Message}", e);
        }
        try
        {
            var db = new LiteDatabase(new ConnectionString { Filename = full, Connection = ConnectionType.Direct });
            db.GetCollectionNames().ToList(); // touch the file so a corrupt one fails here, not on first use
            return (db, fileLock);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            fileLock.Dispose();
            // Opening replays LiteDB's log into the file: a full disk refuses that, and the file is not corrupt for it.
            throw StoreErrors.Environment(e, what, full)
                ?? new StoreException($"{what} {full} is corrupt or not a LiteDB file: {e.Message}", e);
        }
    }

    /// <summary>
    /// A fresh engine on <paramref name="path"/> after a failed write left the old one unusable: LiteDB marks its
    /// engine broken after an I/O error inside a transaction, and every later call throws. Opening the file again runs
    /// LiteDB's recovery (the log's committed pages are kept, an uncommitted transaction's dropped). Our lock file
    /// stays held throughout. Throws what the disk throws when it still refuses.
    /// </summary>
    public static LiteDatabase Reopen(LiteDatabase broken, string path)
    {
        try
        {
            broken.Dispose();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A broken engine may fail to flush on dispose: what it held uncommitted is dropped on reopen anyway.
        }
        var db = new LiteDatabase(new ConnectionString { Filename = path, Connection = ConnectionType.Direct });
        try
        {
            db.GetCollectionNames().ToList();
            return db;
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    public static (LiteDatabase Database, IDisposable Lock) OpenInMemory() => (new LiteDatabase(new MemoryStream()), new MemoryStream());
}

using LiteDB;

namespace EngineSkeleton.Storage;

/// <summary>Opens LiteDB files the one way this node uses them: direct (exclusive) connection, clear errors.</summary>
internal static class LiteDbFiles
{
    public static LiteDatabase Open(string path, string what)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }
        try
        {
            // Direct mode holds the file exclusively: a second node on the same datadir fails here, loudly.
            return new LiteDatabase(new ConnectionString { Filename = path, Connection = ConnectionType.Direct });
        }
        catch (IOException e)
        {
            throw new StoreException($"{what} {path} is locked by another process or cannot be opened: {e.Message}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new StoreException($"{what} {path} cannot be opened: {e.Message}", e);
        }
        catch (LiteException e)
        {
            throw new StoreException($"{what} {path} is corrupt or not a LiteDB file: {e.Message}", e);
        }
    }

    public static LiteDatabase OpenInMemory() => new(new MemoryStream());
}

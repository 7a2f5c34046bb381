using LiteDB;

namespace EngineSkeleton.Storage;

/// <summary>
/// Names the environment's write failures in words an operator acts on (issue 14: "disk full at …: free space and
/// the sync resumes"). The errno values are Linux's; .NET on Unix puts the raw errno in an IOException's HResult,
/// and on Windows the HRESULT of the Win32 error.
/// </summary>
internal static class StoreErrors
{
    private const int Enospc = 28;
    private const int Edquot = 122;
    private const int Eagain = 11;
    private const int Win32DiskFull = unchecked((int)0x80070070); // ERROR_DISK_FULL
    private const int Win32HandleDiskFull = unchecked((int)0x80070027); // ERROR_HANDLE_DISK_FULL
    private const int Win32Sharing = unchecked((int)0x80070020); // ERROR_SHARING_VIOLATION
    private const int Win32Lock = unchecked((int)0x80070021); // ERROR_LOCK_VIOLATION

    /// <summary>
    /// <paramref name="error"/> as a <see cref="StoreException"/> naming the environment's failure, or null when it
    /// is not one (a bug, a corrupt page: those keep their own type and stack).
    /// </summary>
    public static StoreException? Environment(Exception error, string what, string? path)
    {
        var io = Find<IOException>(error);
        var denied = Find<UnauthorizedAccessException>(error);
        if (io is null && denied is null)
        {
            return null;
        }
        var where = path ?? "(in memory)";
        var directory = path is null ? where : Path.GetDirectoryName(path) ?? where;
        if (denied is not null)
        {
            return new StoreException(StoreFaultKind.IoError, $"{what} {where} is not writable ({denied.Message}): fix its permissions and the sync resumes", error);
        }
        return io!.HResult switch
        {
            Enospc or Edquot or Win32DiskFull or Win32HandleDiskFull => new StoreException(
                StoreFaultKind.DiskFull, $"disk full at {directory}: the {what} could not write; free space and the sync resumes", error),
            Eagain or Win32Sharing or Win32Lock => new StoreException(
                StoreFaultKind.Locked, $"{what} {where} is locked by another process: stop it and the sync resumes", error),
            _ => new StoreException(
                StoreFaultKind.IoError, $"I/O error writing the {what} at {where} ({io.Message}): check the disk; the sync resumes once a write succeeds", error),
        };
    }

    /// <summary>
    /// Rolls back after a failed write. A disk that refused the write may refuse the rollback too: the write's own
    /// failure is what the operator must see (the caller rethrows it), and LiteDB discards an uncommitted
    /// transaction's pages when the file is opened again.
    /// </summary>
    public static void Rollback(LiteDatabase db)
    {
        try
        {
            db.Rollback();
        }
        catch (Exception e) when (e is IOException or LiteException or InvalidOperationException or UnauthorizedAccessException)
        {
        }
    }

    private static T? Find<T>(Exception error)
        where T : Exception
    {
        // LiteDB and tasks wrap what the disk threw: look through InnerException (an AggregateException's first).
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            if (e is T found)
            {
                return found;
            }
        }
        return null;
    }
}

namespace EngineSkeleton.Storage;

/// <summary>
/// A store that cannot be opened or used (locked, corrupt, another chain, a disk that refuses writes); its message is
/// one clear line an operator acts on. <see cref="Kind"/> tells the environment's failures (the disk, another process)
/// apart from the rest, so the sync can wait them out instead of calling them bugs (docs/reliability.md).
/// </summary>
public sealed class StoreException : Exception
{
    public StoreException(string message)
        : base(message)
    {
    }

    public StoreException()
    {
    }

    public StoreException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public StoreException(StoreFaultKind kind, string message, Exception innerException)
        : base(message, innerException)
    {
        Kind = kind;
    }

    /// <summary>Whose the failure is: <see cref="StoreFaultKind.Other"/> unless the environment's.</summary>
    public StoreFaultKind Kind { get; }
}

/// <summary>Why a store could not write, when the reason lies in the machine, not in this program or its data.</summary>
public enum StoreFaultKind
{
    /// <summary>Not an environment failure: a corrupt file, another chain's datadir, a bug.</summary>
    Other,

    /// <summary>The filesystem is full (ENOSPC) or the user's quota is spent (EDQUOT).</summary>
    DiskFull,

    /// <summary>The device failed a read or write (EIO and other I/O errors), or the file is not writable.</summary>
    IoError,

    /// <summary>Another process holds the file.</summary>
    Locked,
}

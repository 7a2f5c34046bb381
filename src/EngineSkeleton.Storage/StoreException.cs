namespace EngineSkeleton.Storage;

/// <summary>A store that cannot be opened or used (locked, corrupt, another chain); its message is one clear line.</summary>
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
}

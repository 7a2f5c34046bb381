namespace EngineSkeleton.Server.Hosting;

/// <summary>Startup cannot go on; the message is the one line printed before exiting with code 2 (README.md (flags)).</summary>
internal sealed class StartupException : Exception
{
    public StartupException(string message)
        : base(message)
    {
    }

    public StartupException()
    {
    }

    public StartupException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

namespace EngineSkeleton.Core.Rlp;

/// <summary>
/// Input that is not canonical RLP, or not the shape the caller asked for. The message names the rule broken
/// and the byte offset, so that a log line about a peer's bad data says what was wrong with it.
/// </summary>
public sealed class RlpException : FormatException
{
    public RlpException()
    {
    }

    public RlpException(string message)
        : base(message)
    {
    }

    public RlpException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

namespace EngineSkeleton.Network.DevP2p.Eth;

/// <summary>
/// An eth message from a peer that we refuse: not RLP, not the message's shape, or over a limit. Always the peer's
/// fault; the message (the message's name, then the reason, then the byte offset where RLP says) is what the
/// disconnect is logged with.
/// </summary>
public sealed class EthMessageException : FormatException
{
    public EthMessageException()
    {
    }

    public EthMessageException(string message)
        : base(message)
    {
    }

    public EthMessageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal static EthMessageException Of(string message, string reason) => new($"eth {message}: {reason}");

    internal static EthMessageException TooMany(string message, string what, int limit) =>
        Of(message, $"more than {limit:N0} {what}, the most we accept");
}

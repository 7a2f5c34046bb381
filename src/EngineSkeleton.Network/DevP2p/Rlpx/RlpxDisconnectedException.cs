namespace EngineSkeleton.Network.DevP2p.Rlpx;

/// <summary>
/// The peer sent Disconnect where an answer was expected (during the Hello exchange). Not a protocol violation:
/// rlpx.md allows a Disconnect instead of a Hello, and <see cref="Reason"/> says why (null if the peer gave none or
/// an unreadable one).
/// </summary>
public sealed class RlpxDisconnectedException : IOException
{
    public RlpxDisconnectedException()
        : this((DisconnectReason?)null)
    {
    }

    public RlpxDisconnectedException(string message)
        : base(message)
    {
    }

    public RlpxDisconnectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public RlpxDisconnectedException(DisconnectReason? reason)
        : base(reason is { } r ? $"peer disconnected: {r}" : "peer disconnected without a readable reason")
    {
        Reason = reason;
    }

    public DisconnectReason? Reason { get; }
}

namespace EngineSkeleton.Network.DevP2p.Rlpx;

/// <summary>
/// The remote peer broke the RLPx protocol: the connection is no longer usable and should be closed, after a
/// Disconnect with <see cref="DisconnectReason"/> where the session got that far. Our own bugs (a message too large to
/// send, a second reader) are <see cref="ArgumentException"/> and <see cref="InvalidOperationException"/>; a socket
/// that fails is an <see cref="IOException"/> of another type.
/// </summary>
public sealed class RlpxProtocolException : IOException
{
    public RlpxProtocolException()
        : this(RlpxErrorKind.BadMessage, "RLPx protocol violation")
    {
    }

    public RlpxProtocolException(string message)
        : this(RlpxErrorKind.BadMessage, message)
    {
    }

    public RlpxProtocolException(string message, Exception innerException)
        : this(RlpxErrorKind.BadMessage, message, innerException)
    {
    }

    public RlpxProtocolException(RlpxErrorKind kind, string message)
        : base(message)
    {
        Kind = kind;
    }

    public RlpxProtocolException(RlpxErrorKind kind, string message, Exception? innerException)
        : base(message, innerException)
    {
        Kind = kind;
    }

    public RlpxErrorKind Kind { get; }

    /// <summary>The reason to give the peer in a Disconnect, as geth maps its errors (p2p/peer_error.go).</summary>
    public DisconnectReason DisconnectReason => Kind switch
    {
        RlpxErrorKind.NullIdentity => DisconnectReason.NullNodeIdentity,
        RlpxErrorKind.UnexpectedIdentity => DisconnectReason.UnexpectedIdentity,
        _ => DisconnectReason.BreachOfProtocol,
    };
}

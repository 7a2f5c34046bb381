namespace EngineSkeleton.Network.Discovery;

/// <summary>What was wrong with discovery input, so that a caller can count or log by kind.</summary>
public enum DiscoveryError
{
    /// <summary>Not the shape the spec gives: bad RLP, a wrong field, a bad text form.</summary>
    Malformed,

    /// <summary>Over a size limit (ENR 300 bytes, discv4 1,280 bytes, a DNS tree's bounds).</summary>
    TooLarge,

    /// <summary>A signature that does not verify, or from which no key can be recovered.</summary>
    BadSignature,

    /// <summary>A discv4 packet hash, or a DNS entry whose hash is not its name.</summary>
    BadHash,

    /// <summary>A discv4 packet whose expiration time has passed.</summary>
    Expired,

    /// <summary>An ENR's keys out of order or repeated.</summary>
    UnsortedKeys,

    /// <summary>A DNS tree that names an entry again (a cycle or a shared subtree) or goes too deep.</summary>
    BadTree,

    /// <summary>The DNS resolver had no record, or none of the expected type, for a name.</summary>
    Missing,
}

/// <summary>
/// The one exception the discovery codecs throw for input from the network (an ENR, a discv4 packet, a DNS TXT
/// entry): the input is refused, the <see cref="Kind"/> says why, the message says what. Anything else thrown by this
/// namespace is a bug or a caller's mistake (<see cref="ArgumentException"/>), or, from a resolver, its own I/O failure.
/// </summary>
public sealed class DiscoveryException : FormatException
{
    public DiscoveryException(DiscoveryError kind, string message)
        : base(message)
    {
        Kind = kind;
    }

    public DiscoveryException(DiscoveryError kind, string message, Exception? innerException)
        : base(message, innerException)
    {
        Kind = kind;
    }

    public DiscoveryError Kind { get; }
}

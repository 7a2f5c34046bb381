namespace EngineSkeleton.Network.DevP2p.Rlpx;

/// <summary>Limits of an <see cref="RlpxConnection"/>, each with its source. <see cref="Validate"/> runs when a connection is built.</summary>
public sealed record RlpxOptions
{
    public static readonly RlpxOptions Default = new();

    /// <summary>
    /// How long the encryption handshake may take, and, separately, the Hello exchange: geth's handshakeTimeout
    /// (p2p/transport.go), 5 s. Two round trips and a few ECDH operations; a peer slower than that is not worth it.
    /// </summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Largest message payload read, after decompression: 2^24 - 1 bytes, geth's limit (p2p/rlpx, maxUint24; rlpx.md
    /// says messages over 16 MiB should be rejected). A connection that carries only eth can lower it to 10 MiB, eth's
    /// own limit (geth eth/protocols/eth maxMessageSize). Frames are refused before they are read when they announce
    /// more than a message this size can take, and Snappy data before it is decompressed.
    /// </summary>
    public int MaxMessageSize { get; init; } = 0xFFFFFF;

    /// <summary>Largest RLP encoding of a message code (a 64-bit integer).</summary>
    internal const int MaxCodeSize = 9;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad value.</summary>
    public void Validate()
    {
        if (HandshakeTimeout <= TimeSpan.Zero || HandshakeTimeout > TimeSpan.FromMinutes(10))
        {
            throw new ArgumentException($"RLPx option {nameof(HandshakeTimeout)} is {HandshakeTimeout}; it must be above zero and at most 10 minutes", nameof(HandshakeTimeout));
        }
        if (MaxMessageSize < Hello.MaxSize || MaxMessageSize > FrameCodec.MaxFrameSize)
        {
            throw new ArgumentException(
                $"RLPx option {nameof(MaxMessageSize)} is {MaxMessageSize}; it must be {Hello.MaxSize} (a Hello) to {FrameCodec.MaxFrameSize} (2^24 - 1)", nameof(MaxMessageSize));
        }
    }
}

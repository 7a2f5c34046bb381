namespace EngineSkeleton.Network.DevP2p.Rlpx;

/// <summary>What a peer did wrong on an RLPx connection; <see cref="RlpxProtocolException.Kind"/> carries it.</summary>
public enum RlpxErrorKind
{
    /// <summary>An auth or ack packet that does not decrypt, is too large or too small, or says nothing sensible.</summary>
    BadHandshake,

    /// <summary>A frame whose header MAC or frame MAC does not match: corruption, a bug, or a forged frame.</summary>
    BadMac,

    /// <summary>A frame header announcing more bytes than any message within the limits can take.</summary>
    FrameTooLarge,

    /// <summary>A message whose (decompressed) size exceeds the limit, announced or real.</summary>
    MessageTooLarge,

    /// <summary>Snappy data that does not decompress to the length it announces.</summary>
    BadCompression,

    /// <summary>A message that is not what the protocol allows at that point: bad RLP, an unexpected code.</summary>
    BadMessage,

    /// <summary>A Hello whose node id is all zeros (rlpx.md: null node identity).</summary>
    NullIdentity,

    /// <summary>A Hello whose node id is not the key the encryption handshake proved.</summary>
    UnexpectedIdentity,
}

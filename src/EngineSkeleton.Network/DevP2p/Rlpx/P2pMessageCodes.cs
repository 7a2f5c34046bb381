namespace EngineSkeleton.Network.DevP2p.Rlpx;

/// <summary>Message codes of the "p2p" capability (rlpx.md), and where the sub-protocols' codes start.</summary>
public static class P2pMessageCodes
{
    public const ulong Hello = 0x00;

    public const ulong Disconnect = 0x01;

    public const ulong Ping = 0x02;

    public const ulong Pong = 0x03;

    /// <summary>
    /// Codes 0x00-0x0f belong to "p2p"; the first shared capability (in alphabetical order) starts at 0x10 (rlpx.md,
    /// Message ID-based Multiplexing; geth's baseProtocolLength).
    /// </summary>
    public const ulong BaseProtocolLength = 0x10;
}

namespace EngineSkeleton.Network.DevP2p.Rlpx;

/// <summary>
/// One message read from an RLPx connection: its code (p2p codes below <see cref="P2pMessageCodes.BaseProtocolLength"/>,
/// sub-protocols above) and its RLP payload, decompressed and owned by the caller. <see cref="WireSize"/> is what it
/// took in its frame (compressed), for traffic meters.
/// </summary>
public readonly record struct RlpxMessage(ulong Code, ReadOnlyMemory<byte> Payload, int WireSize);

using System.Numerics;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Rlp;

namespace EngineSkeleton.Network.DevP2p.Eth;

/// <summary>
/// Status (0x00), the first message each side sends. Its shape depends on the version RLPx negotiated, not on the
/// version field inside it, so <see cref="Decode"/> takes the negotiated one; a differing field is then a mismatch
/// for <see cref="StatusCheck"/>, not a decoding error.
/// </summary>
internal abstract record StatusMessage(uint Version, ulong NetworkId, Hash256 Genesis, ForkId ForkId) : EthMessage
{
    public override byte Code => EthMessageCode.Status;

    public static StatusMessage Decode(int negotiatedVersion, ReadOnlySpan<byte> payload) => negotiatedVersion switch
    {
        EthProtocol.Eth68 => StatusMessage68.Decode(payload),
        EthProtocol.Eth69 => StatusMessage69.Decode(payload),
        _ => throw new ArgumentOutOfRangeException(nameof(negotiatedVersion), negotiatedVersion, "eth/68 and eth/69 are the versions spoken"),
    };
}

/// <summary>
/// eth/68 Status: [version, networkid, td, blockhash, genesis, forkid] (EIP-7642 lists the eth/68 form). The total
/// difficulty of the head is meaningless since the merge (docs/trust.md: no TD) and carried as sent; Head is the
/// sender's head block hash.
/// </summary>
internal sealed record StatusMessage68(uint Version, ulong NetworkId, BigInteger TotalDifficulty, Hash256 Head, Hash256 Genesis, ForkId ForkId)
    : StatusMessage(Version, NetworkId, Genesis, ForkId)
{
    public static StatusMessage68 Decode(ReadOnlySpan<byte> payload) =>
        EthRlp.DecodeFields(EthMessageCode.Status, payload, static (ref RlpReader fields) =>
            new StatusMessage68(
                EthRlp.ReadUInt32(ref fields, "Status", "version"),
                fields.ReadUInt64(),
                fields.ReadBigInteger(),
                fields.ReadHash256(),
                fields.ReadHash256(),
                ForkId.Read(ref fields)));

    private int PayloadLength =>
        RlpWriter.LengthOfUInt64(Version) + RlpWriter.LengthOfUInt64(NetworkId) + RlpWriter.LengthOfBigInteger(TotalDifficulty)
        + (2 * RlpWriter.LengthOfHash256) + ForkId.EncodedLength;

    private protected override int EncodedLength() => RlpWriter.LengthOfList(PayloadLength);

    private protected override void Write(ref RlpWriter writer)
    {
        writer.WriteListHeader(PayloadLength);
        writer.WriteUInt64(Version);
        writer.WriteUInt64(NetworkId);
        writer.WriteBigInteger(TotalDifficulty);
        writer.WriteHash256(Head);
        writer.WriteHash256(Genesis);
        ForkId.Write(ref writer);
    }
}

/// <summary>
/// eth/69 Status (EIP-7642): [version, networkid, genesis, forkid, earliestBlock, latestBlock, latestBlockHash].
/// </summary>
internal sealed record StatusMessage69(uint Version, ulong NetworkId, Hash256 Genesis, ForkId ForkId, BlockRange Range)
    : StatusMessage(Version, NetworkId, Genesis, ForkId)
{
    public static StatusMessage69 Decode(ReadOnlySpan<byte> payload) =>
        EthRlp.DecodeFields(EthMessageCode.Status, payload, static (ref RlpReader fields) =>
            new StatusMessage69(
                EthRlp.ReadUInt32(ref fields, "Status", "version"),
                fields.ReadUInt64(),
                fields.ReadHash256(),
                ForkId.Read(ref fields),
                BlockRange.ReadItems(ref fields)));

    private int PayloadLength =>
        RlpWriter.LengthOfUInt64(Version) + RlpWriter.LengthOfUInt64(NetworkId) + RlpWriter.LengthOfHash256
        + ForkId.EncodedLength + Range.ItemsLength;

    private protected override int EncodedLength() => RlpWriter.LengthOfList(PayloadLength);

    private protected override void Write(ref RlpWriter writer)
    {
        writer.WriteListHeader(PayloadLength);
        writer.WriteUInt64(Version);
        writer.WriteUInt64(NetworkId);
        writer.WriteHash256(Genesis);
        ForkId.Write(ref writer);
        Range.WriteItems(ref writer);
    }
}

/// <summary>
/// The full blocks a peer serves (EIP-7642): bodies and receipts of every block from <see cref="Earliest"/> to
/// <see cref="Latest"/>, the latest being <see cref="LatestHash"/>. Headers are assumed served from genesis.
/// </summary>
internal readonly record struct BlockRange(ulong Earliest, ulong Latest, Hash256 LatestHash)
{
    /// <summary>Why a peer's range is unusable, in an operator's words, or null (geth BlockRangeUpdatePacket.Validate).</summary>
    public string? Problem =>
        Earliest > Latest ? $"earliest block {Earliest} is after latest block {Latest}"
        : LatestHash.IsZero ? $"latest block hash is zero (latest block {Latest})"
        : null;

    internal int ItemsLength =>
        RlpWriter.LengthOfUInt64(Earliest) + RlpWriter.LengthOfUInt64(Latest) + RlpWriter.LengthOfHash256;

    internal void WriteItems(ref RlpWriter writer)
    {
        writer.WriteUInt64(Earliest);
        writer.WriteUInt64(Latest);
        writer.WriteHash256(LatestHash);
    }

    internal static BlockRange ReadItems(ref RlpReader reader) => new(reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadHash256());
}

/// <summary>BlockRangeUpdate (0x11, eth/69): [earliest, latest, latestHash], the served range as it moves.</summary>
internal sealed record BlockRangeUpdateMessage(BlockRange Range) : EthMessage
{
    public override byte Code => EthMessageCode.BlockRangeUpdate;

    public static BlockRangeUpdateMessage Decode(ReadOnlySpan<byte> payload) =>
        EthRlp.DecodeFields(EthMessageCode.BlockRangeUpdate, payload, static (ref RlpReader fields) =>
            new BlockRangeUpdateMessage(BlockRange.ReadItems(ref fields)));

    private protected override int EncodedLength() => RlpWriter.LengthOfList(Range.ItemsLength);

    private protected override void Write(ref RlpWriter writer)
    {
        writer.WriteListHeader(Range.ItemsLength);
        Range.WriteItems(ref writer);
    }
}

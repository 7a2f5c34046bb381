using System.Numerics;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Rlp;

namespace EngineSkeleton.Network.DevP2p.Eth;

/// <summary>One block a NewBlockHashes message announces.</summary>
internal readonly record struct BlockAnnouncement(Hash256 Hash, ulong Number);

/// <summary>
/// NewBlockHashes (0x01, eth/68 only): [[hash, number], ...]. Block propagation ended with the merge (caps/eth.md);
/// decoded so that a pre-merge peer's announcement is understood, not acted on. Bounded by the message size.
/// </summary>
internal sealed record NewBlockHashesMessage(IReadOnlyList<BlockAnnouncement> Blocks) : EthMessage
{
    private const int LengthOfPair = RlpWriter.LengthOfHash256;

    public override byte Code => EthMessageCode.NewBlockHashes;

    public static NewBlockHashesMessage Decode(ReadOnlySpan<byte> payload) =>
        EthRlp.Decode(EthMessageCode.NewBlockHashes, payload, static (ref RlpReader reader) =>
        {
            var list = reader.ReadList();
            var blocks = new BlockAnnouncement[EthRlp.Count(list, "NewBlockHashes", "announcements", int.MaxValue)];
            for (var i = 0; i < blocks.Length; i++)
            {
                var pair = list.ReadList();
                blocks[i] = new BlockAnnouncement(pair.ReadHash256(), pair.ReadUInt64());
                pair.EnsureEnd();
            }
            return new NewBlockHashesMessage(blocks);
        });

    private int ListPayloadLength()
    {
        var length = 0;
        foreach (var block in Blocks)
        {
            length += RlpWriter.LengthOfList(LengthOfPair + RlpWriter.LengthOfUInt64(block.Number));
        }
        return length;
    }

    private protected override int EncodedLength() => RlpWriter.LengthOfList(ListPayloadLength());

    private protected override void Write(ref RlpWriter writer)
    {
        writer.WriteListHeader(ListPayloadLength());
        foreach (var block in Blocks)
        {
            writer.WriteListHeader(LengthOfPair + RlpWriter.LengthOfUInt64(block.Number));
            writer.WriteHash256(block.Hash);
            writer.WriteUInt64(block.Number);
        }
    }
}

/// <summary>
/// NewBlock (0x07, eth/68 only): [block, td]. As <see cref="NewBlockHashesMessage"/>, understood but not acted on
/// after the merge. Get-only, so that the block's encoding, made once when first encoded, cannot go stale.
/// </summary>
internal sealed record NewBlockMessage : EthMessage
{
    private byte[]? _encoded;

    public NewBlockMessage(Block block, BigInteger totalDifficulty)
    {
        Block = block;
        TotalDifficulty = totalDifficulty;
    }

    public Block Block { get; }

    public BigInteger TotalDifficulty { get; }

    public override byte Code => EthMessageCode.NewBlock;

    public static NewBlockMessage Decode(ReadOnlySpan<byte> payload) =>
        EthRlp.DecodeFields(EthMessageCode.NewBlock, payload, static (ref RlpReader fields) =>
            new NewBlockMessage(Block.Decode(fields.ReadRawItem()), fields.ReadBigInteger()));

    private int PayloadLength => Encoded().Length + RlpWriter.LengthOfBigInteger(TotalDifficulty);

    private protected override int EncodedLength() => RlpWriter.LengthOfList(PayloadLength);

    private protected override void Write(ref RlpWriter writer)
    {
        writer.WriteListHeader(PayloadLength);
        writer.WriteRaw(Encoded());
        writer.WriteBigInteger(TotalDifficulty);
    }

    private byte[] Encoded() => _encoded ??= Block.Encode();
}

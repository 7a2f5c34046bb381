using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Rlp;

namespace EngineSkeleton.Core.Blocks;

/// <summary>A validator withdrawal pushed by the consensus layer (EIP-4895); RLP [index, validatorIndex, address, amount].</summary>
public sealed record Withdrawal(ulong Index, ulong ValidatorIndex, Address Address, ulong AmountGwei)
{
    public byte[] Encode()
    {
        var output = new byte[EncodedLength];
        var writer = new RlpWriter(output);
        Write(ref writer);
        return output;
    }

    public static Withdrawal Decode(ReadOnlySpan<byte> encoded)
    {
        var reader = new RlpReader(encoded);
        var withdrawal = Read(ref reader);
        reader.EnsureEnd();
        return withdrawal;
    }

    internal int EncodedLength => RlpWriter.LengthOfList(PayloadLength);

    private int PayloadLength =>
        RlpWriter.LengthOfUInt64(Index) + RlpWriter.LengthOfUInt64(ValidatorIndex) + RlpWriter.LengthOfAddress
        + RlpWriter.LengthOfUInt64(AmountGwei);

    internal void Write(ref RlpWriter writer)
    {
        writer.WriteListHeader(PayloadLength);
        writer.WriteUInt64(Index);
        writer.WriteUInt64(ValidatorIndex);
        writer.WriteAddress(Address);
        writer.WriteUInt64(AmountGwei);
    }

    internal static Withdrawal Read(ref RlpReader reader)
    {
        var fields = reader.ReadList();
        var withdrawal = new Withdrawal(fields.ReadUInt64(), fields.ReadUInt64(), fields.ReadAddress(), fields.ReadUInt64());
        fields.EnsureEnd();
        return withdrawal;
    }
}

using System.Diagnostics.CodeAnalysis;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Rlp;

namespace EngineSkeleton.Core.Blocks;

/// <summary>A block as devp2p and chain files carry it: RLP [header, transactions, ommers, withdrawals?].</summary>
public sealed record Block(BlockHeader Header, BlockBody Body)
{
    public Hash256 Hash => Header.Hash;

    public byte[] Encode()
    {
        var payload = Header.EncodedLength + Body.PayloadLength();
        var output = new byte[RlpWriter.LengthOfList(payload)];
        var writer = new RlpWriter(output);
        writer.WriteListHeader(payload);
        Header.Write(ref writer);
        Body.WriteItems(ref writer);
        return output;
    }

    /// <summary>Decodes one block that must span the whole input; throws <see cref="RlpException"/>.</summary>
    public static Block Decode(ReadOnlySpan<byte> encoded)
    {
        var reader = new RlpReader(encoded);
        var block = Read(ref reader);
        reader.EnsureEnd();
        return block;
    }

    /// <summary>Decodes one block that must span the whole input, for data from peers: no exception escapes.</summary>
    public static bool TryDecode(
        ReadOnlySpan<byte> encoded,
        [NotNullWhen(true)] out Block? block,
        [NotNullWhen(false)] out string? error)
    {
        try
        {
            block = Decode(encoded);
            error = null;
            return true;
        }
        catch (RlpException e)
        {
            block = null;
            error = e.Message;
            return false;
        }
    }

    /// <summary>Decodes back-to-back blocks, as in a chain.rlp export (geth's `export`, hive's chain files).</summary>
    public static IReadOnlyList<Block> DecodeConcatenated(ReadOnlySpan<byte> encoded)
    {
        var reader = new RlpReader(encoded);
        var blocks = new List<Block>();
        while (reader.HasMore)
        {
            blocks.Add(Read(ref reader));
        }
        return blocks;
    }

    private static Block Read(ref RlpReader reader)
    {
        var items = reader.ReadList();
        var header = BlockHeader.Read(ref items);
        var body = BlockBody.ReadItems(ref items);
        items.EnsureEnd();
        return new Block(header, body);
    }
}

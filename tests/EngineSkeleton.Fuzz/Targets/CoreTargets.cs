using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Rlp;

namespace EngineSkeleton.Fuzz.Targets;

/// <summary>
/// The primitives' decoders (src/EngineSkeleton.Core): <see cref="RlpException"/> is their one refusal. Every one of
/// them reads RLP strictly (canonical only), so an accepted input must encode back to exactly its own bytes: the
/// targets check that too, which turns a lenient decoder into a finding rather than a silent pass.
/// </summary>
internal static class CoreTargets
{
    /// <summary>Deep enough for any structure a peer legitimately sends; RLP itself has no bound.</summary>
    private const int MaxDepth = 64;

    public static IEnumerable<FuzzTarget> All =>
    [
        new("rlp", "RlpReader: any item tree, walked and re-encoded", Rlp),
        new("header", "BlockHeader.Decode (15 to 21 fields)", Header),
        new("body", "BlockBody.Decode (transactions, ommers, withdrawals)", Body),
        new("block", "Block.Decode and Block.DecodeConcatenated (chain.rlp)", Block),
        new("transaction", "Transactions.IsWellFormed, TryGetType, TryGetBlobVersionedHashes", Transaction),
    ];

    private static void Rlp(ReadOnlySpan<byte> input)
    {
        byte[] reencoded;
        try
        {
            var reader = new RlpReader(input);
            var items = new List<Item>();
            while (reader.HasMore)
            {
                items.Add(Walk(ref reader, 0));
            }
            reencoded = Encode(items);
        }
        catch (RlpException)
        {
            return;
        }
        Expect(reencoded.AsSpan().SequenceEqual(input), "an accepted RLP input re-encodes to other bytes");
    }

    private static void Header(ReadOnlySpan<byte> input)
    {
        BlockHeader header;
        try
        {
            header = BlockHeader.Decode(input);
        }
        catch (RlpException)
        {
            Expect(!BlockHeader.TryDecode(input, out _, out _), "TryDecode accepts what Decode refuses");
            return;
        }
        Expect(header.Encode().AsSpan().SequenceEqual(input), "an accepted header re-encodes to other bytes");
        _ = header.Hash;
    }

    private static void Body(ReadOnlySpan<byte> input)
    {
        BlockBody body;
        try
        {
            body = BlockBody.Decode(input);
        }
        catch (RlpException)
        {
            return;
        }
        Expect(body.Encode().AsSpan().SequenceEqual(input), "an accepted body re-encodes to other bytes");
    }

    private static void Block(ReadOnlySpan<byte> input)
    {
        try
        {
            var block = Core.Blocks.Block.Decode(input);
            Expect(block.Encode().AsSpan().SequenceEqual(input), "an accepted block re-encodes to other bytes");
            _ = block.Hash;
        }
        catch (RlpException)
        {
        }
        try
        {
            var blocks = Core.Blocks.Block.DecodeConcatenated(input);
            var total = 0;
            foreach (var block in blocks)
            {
                total += block.Encode().Length;
            }
            Expect(total == input.Length, "accepted concatenated blocks re-encode to another length");
        }
        catch (RlpException)
        {
        }
    }

    private static void Transaction(ReadOnlySpan<byte> input)
    {
        var hasType = Transactions.TryGetType(input, out _);
        var wellFormed = Transactions.IsWellFormed(input, out var error);
        Expect(wellFormed == (error is null), "IsWellFormed's verdict and its error disagree");
        Expect(!wellFormed || hasType, "a well-formed transaction without a type");
        var hashesOk = Transactions.TryGetBlobVersionedHashes(input, out var hashes, out _);
        Expect(!hashesOk || wellFormed, "blob hashes read from a transaction that is not well formed");
        Expect(hashesOk || hashes.Count == 0, "blob hashes returned with a refusal");
        _ = Transactions.Hash(input);
    }

    private static Item Walk(ref RlpReader reader, int depth)
    {
        if (!reader.PeekIsList)
        {
            return new Item(reader.ReadBytes().ToArray(), null);
        }
        if (depth >= MaxDepth)
        {
            throw new RlpException("fuzz: nested deeper than the walk goes");
        }
        var list = reader.ReadList();
        var children = new List<Item>();
        while (list.HasMore)
        {
            children.Add(Walk(ref list, depth + 1));
        }
        return new Item(null, children);
    }

    private static byte[] Encode(List<Item> items)
    {
        var length = 0;
        foreach (var item in items)
        {
            length += item.EncodedLength;
        }
        var output = new byte[length];
        var writer = new RlpWriter(output);
        foreach (var item in items)
        {
            item.Write(ref writer);
        }
        return output;
    }

    internal static void Expect(bool condition, string broken)
    {
        if (!condition)
        {
            throw new FuzzInvariantException(broken);
        }
    }

    /// <summary>A decoded RLP item: a string's payload or a list's children.</summary>
    private sealed record Item(byte[]? Bytes, List<Item>? Children)
    {
        public int PayloadLength
        {
            get
            {
                if (Bytes is not null)
                {
                    return 0;
                }
                var sum = 0;
                foreach (var child in Children!)
                {
                    sum += child.EncodedLength;
                }
                return sum;
            }
        }

        public int EncodedLength => Bytes is not null ? RlpWriter.LengthOfBytes(Bytes) : RlpWriter.LengthOfList(PayloadLength);

        public void Write(ref RlpWriter writer)
        {
            if (Bytes is not null)
            {
                writer.WriteBytes(Bytes);
                return;
            }
            writer.WriteListHeader(PayloadLength);
            foreach (var child in Children!)
            {
                child.Write(ref writer);
            }
        }
    }
}

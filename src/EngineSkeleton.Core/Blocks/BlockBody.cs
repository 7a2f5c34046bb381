using System.Diagnostics.CodeAnalysis;
using EngineSkeleton.Core.Rlp;

namespace EngineSkeleton.Core.Blocks;

/// <summary>
/// A block's body: RLP [transactions, ommers] before Shanghai, [transactions, ommers, withdrawals] from it on.
/// Transactions are held as their canonical bytes; inside block RLP a typed transaction (type || payload) is
/// wrapped as an RLP string while a legacy one is its own RLP list (EIP-2718), which Encode and Decode undo.
/// Equality compares the contents of the lists.
/// </summary>
public sealed record BlockBody(
    IReadOnlyList<byte[]> Transactions,
    IReadOnlyList<BlockHeader> Ommers,
    IReadOnlyList<Withdrawal>? Withdrawals)
{
    public static readonly BlockBody Empty = new([], [], null);

    public byte[] Encode()
    {
        var output = new byte[EncodedLength];
        Encode(output);
        return output;
    }

    /// <summary>Writes the body's RLP into the first <see cref="EncodedLength"/> bytes of <paramref name="output"/>; returns that length.</summary>
    public int Encode(Span<byte> output)
    {
        var payload = PayloadLength();
        var writer = new RlpWriter(output[..RlpWriter.LengthOfList(payload)]);
        writer.WriteListHeader(payload);
        WriteItems(ref writer);
        return RlpWriter.LengthOfList(payload);
    }

    /// <summary>Decodes one body list that must span the whole input; throws <see cref="RlpException"/>.</summary>
    public static BlockBody Decode(ReadOnlySpan<byte> encoded)
    {
        var reader = new RlpReader(encoded);
        var items = reader.ReadList();
        reader.EnsureEnd();
        var body = ReadItems(ref items);
        items.EnsureEnd();
        return body;
    }

    public static bool TryDecode(
        ReadOnlySpan<byte> encoded,
        [NotNullWhen(true)] out BlockBody? body,
        [NotNullWhen(false)] out string? error)
    {
        try
        {
            body = Decode(encoded);
            error = null;
            return true;
        }
        catch (RlpException e)
        {
            body = null;
            error = e.Message;
            return false;
        }
    }

    public bool Equals(BlockBody? other) =>
        ReferenceEquals(this, other) || (other is not null
            && Transactions.Count == other.Transactions.Count
            && Transactions.Zip(other.Transactions).All(pair => pair.First.AsSpan().SequenceEqual(pair.Second))
            && Ommers.SequenceEqual(other.Ommers)
            && (Withdrawals is null
                ? other.Withdrawals is null
                : other.Withdrawals is not null && Withdrawals.SequenceEqual(other.Withdrawals)));

    public override int GetHashCode() => HashCode.Combine(Transactions.Count, Ommers.Count, Withdrawals?.Count);

    /// <summary>Bytes of the body's RLP encoding, counted without encoding it.</summary>
    public int EncodedLength => RlpWriter.LengthOfList(PayloadLength());

    /// <summary>Bytes of the body's items (the payload of a body or block list).</summary>
    internal int PayloadLength()
    {
        var transactions = 0;
        foreach (var tx in Transactions)
        {
            transactions += LengthInBlock(tx);
        }
        var ommers = 0;
        foreach (var ommer in Ommers)
        {
            ommers += ommer.EncodedLength;
        }
        var length = RlpWriter.LengthOfList(transactions) + RlpWriter.LengthOfList(ommers);
        if (Withdrawals is not null)
        {
            var withdrawals = 0;
            foreach (var withdrawal in Withdrawals)
            {
                withdrawals += withdrawal.EncodedLength;
            }
            length += RlpWriter.LengthOfList(withdrawals);
        }
        return length;
    }

    internal void WriteItems(ref RlpWriter writer)
    {
        var transactions = 0;
        foreach (var tx in Transactions)
        {
            transactions += LengthInBlock(tx);
        }
        writer.WriteListHeader(transactions);
        foreach (var tx in Transactions)
        {
            if (IsLegacy(tx))
            {
                writer.WriteRaw(tx);
            }
            else
            {
                writer.WriteBytes(tx);
            }
        }
        var ommers = 0;
        foreach (var ommer in Ommers)
        {
            ommers += ommer.EncodedLength;
        }
        writer.WriteListHeader(ommers);
        foreach (var ommer in Ommers)
        {
            ommer.Write(ref writer);
        }
        if (Withdrawals is not null)
        {
            var withdrawals = 0;
            foreach (var withdrawal in Withdrawals)
            {
                withdrawals += withdrawal.EncodedLength;
            }
            writer.WriteListHeader(withdrawals);
            foreach (var withdrawal in Withdrawals)
            {
                withdrawal.Write(ref writer);
            }
        }
    }

    /// <summary>Reads [transactions, ommers, withdrawals?] from a list's items; the caller checks the end.</summary>
    internal static BlockBody ReadItems(ref RlpReader items)
    {
        var txList = items.ReadList();
        var transactions = new List<byte[]>();
        while (txList.HasMore)
        {
            var offset = txList.Offset;
            var isList = txList.PeekIsList;
            var tx = isList ? txList.ReadRawItem() : txList.ReadBytes();
            if (!isList && tx.Length > 0 && tx[0] >= 0xc0)
            {
                // EIP-2718: a legacy transaction is the list itself; wrapped in a string it would decode here but
                // encode back unwrapped, to other bytes (geth reads such a string as an envelope of type 0xc0+).
                throw new RlpException(
                    $"RLP: transaction {transactions.Count} is a legacy transaction wrapped in a string (at byte {offset})");
            }
            if (!Blocks.Transactions.IsWellFormed(tx, out var error))
            {
                throw new RlpException(
                    $"RLP: transaction {transactions.Count} is malformed: {error} (at byte {offset})");
            }
            transactions.Add(tx.ToArray());
        }

        var ommerList = items.ReadList();
        var ommers = new List<BlockHeader>();
        while (ommerList.HasMore)
        {
            ommers.Add(BlockHeader.Read(ref ommerList));
        }

        List<Withdrawal>? withdrawals = null;
        if (items.HasMore)
        {
            var withdrawalList = items.ReadList();
            withdrawals = [];
            while (withdrawalList.HasMore)
            {
                withdrawals.Add(Withdrawal.Read(ref withdrawalList));
            }
        }
        return new BlockBody(transactions, ommers, withdrawals);
    }

    private static bool IsLegacy(byte[] tx) => tx.Length > 0 && tx[0] >= 0xc0;

    private static int LengthInBlock(byte[] tx) => IsLegacy(tx) ? tx.Length : RlpWriter.LengthOfBytes(tx);
}

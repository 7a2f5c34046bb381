using System.Buffers;
using System.Diagnostics;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Rlp;

namespace EngineSkeleton.Network.DevP2p.Eth;

/// <summary>
/// One eth message: its code (relative to the eth offset) and its RLP payload, before RLPx compresses and frames it.
/// Requests and their answers carry the eth/66 envelope [request-id, payload] (EIP-2481). Decoding is of untrusted
/// input: each message's Decode throws <see cref="EthMessageException"/> and nothing else, and sizes every array
/// by items that are in the input, never by a count the peer states.
/// </summary>
internal abstract record EthMessage
{
    public abstract byte Code { get; }

    public string Name => EthMessageCode.NameOf(Code);

    public byte[] Encode()
    {
        var output = new byte[EncodedLength()];
        var writer = new RlpWriter(output);
        Write(ref writer);
        Debug.Assert(writer.Position == output.Length, "an eth message wrote other than its length");
        return output;
    }

    /// <summary>
    /// Encodes into a buffer rented from <see cref="ArrayPool{T}.Shared"/> (<paramref name="rented"/>, the caller's to
    /// return); returns the encoding's length. What a session sends goes this way: no array per message.
    /// </summary>
    public int EncodeRented(out byte[] rented)
    {
        var length = EncodedLength();
        rented = ArrayPool<byte>.Shared.Rent(length);
        var writer = new RlpWriter(rented.AsSpan(0, length));
        try
        {
            Write(ref writer);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(rented);
            throw;
        }
        Debug.Assert(writer.Position == length, "an eth message wrote other than its length");
        return length;
    }

    private protected abstract int EncodedLength();

    private protected abstract void Write(ref RlpWriter writer);
}

/// <summary>A request or the answer to one: the eth/66 envelope's request id.</summary>
internal interface IEthExchange
{
    ulong RequestId { get; }
}

/// <summary>
/// A request by hashes, [request-id, [hash, ...]]: GetBlockBodies, GetReceipts and GetPooledTransactions share this
/// encoding in eth/68 and eth/69, and differ only in their code and in what the hashes name.
/// </summary>
internal abstract record EthHashesRequest(ulong RequestId, IReadOnlyList<Hash256> Hashes) : EthMessage, IEthExchange
{
    /// <summary>Decodes the request of <paramref name="code"/>; <paramref name="create"/> makes the message.</summary>
    private protected static T Decode<T>(byte code, ReadOnlySpan<byte> payload, Func<ulong, Hash256[], T> create) =>
        EthRlp.DecodeEnvelope(code, payload, (ref RlpReader inner, ulong requestId) =>
            create(requestId, EthRlp.ReadHashes(ref inner, EthMessageCode.NameOf(code), "hashes", int.MaxValue)));

    private protected sealed override int EncodedLength() => EthRlp.LengthOfEnvelope(RequestId, EthRlp.LengthOfHashes(Hashes.Count));

    private protected sealed override void Write(ref RlpWriter writer)
    {
        EthRlp.WriteEnvelope(ref writer, RequestId, EthRlp.LengthOfHashes(Hashes.Count));
        EthRlp.WriteHashes(ref writer, Hashes);
    }
}

/// <summary>Reads one message's items; the caller checks the end.</summary>
internal delegate T EthReader<T>(ref RlpReader reader);

/// <summary>Reads what follows the request id in the eth/66 envelope; the caller checks the end.</summary>
internal delegate T EthEnvelopeReader<T>(ref RlpReader inner, ulong requestId);

/// <summary>Reads the list item at <paramref name="index"/>, for the message to name it in an error.</summary>
internal delegate T EthItemReader<T>(ref RlpReader list, int index);

/// <summary>RLP shapes the eth messages share: a list of fields, the envelope, lists of hashes and of items, bounded counts.</summary>
internal static class EthRlp
{
    /// <summary>
    /// Decodes a whole message with <paramref name="read"/>: over <see cref="EthLimits.MaxMessageSize"/>, malformed
    /// or with trailing bytes becomes <see cref="EthMessageException"/> naming the message.
    /// </summary>
    public static T Decode<T>(byte code, ReadOnlySpan<byte> payload, EthReader<T> read)
    {
        var name = EthMessageCode.NameOf(code);
        if (payload.Length > EthLimits.MaxMessageSize)
        {
            throw EthMessageException.Of(name, $"{payload.Length:N0} bytes, over the {EthLimits.MaxMessageSize:N0}-byte limit");
        }
        try
        {
            var reader = new RlpReader(payload);
            var message = read(ref reader);
            reader.EnsureEnd();
            return message;
        }
        catch (RlpException e)
        {
            throw new EthMessageException($"eth {name}: {e.Message}", e);
        }
    }

    /// <summary>Decodes a message that is one list of fields, [field, ...], checking that nothing follows the last.</summary>
    public static T DecodeFields<T>(byte code, ReadOnlySpan<byte> payload, EthReader<T> readFields) =>
        Decode(code, payload, (ref RlpReader reader) =>
        {
            var fields = reader.ReadList();
            var message = readFields(ref fields);
            fields.EnsureEnd();
            return message;
        });

    /// <summary>
    /// Decodes a request or an answer, [request-id, ...] (EIP-2481): <paramref name="readInner"/> reads what follows
    /// the id, and nothing may follow that.
    /// </summary>
    public static T DecodeEnvelope<T>(byte code, ReadOnlySpan<byte> payload, EthEnvelopeReader<T> readInner) =>
        DecodeFields(code, payload, (ref RlpReader envelope) =>
        {
            var requestId = envelope.ReadUInt64();
            return readInner(ref envelope, requestId);
        });

    public static int LengthOfEnvelope(ulong requestId, int innerLength) =>
        RlpWriter.LengthOfList(RlpWriter.LengthOfUInt64(requestId) + innerLength);

    /// <summary>Writes [request-id, ...: the caller writes the <paramref name="innerLength"/> bytes that follow.</summary>
    public static void WriteEnvelope(ref RlpWriter writer, ulong requestId, int innerLength)
    {
        writer.WriteListHeader(RlpWriter.LengthOfUInt64(requestId) + innerLength);
        writer.WriteUInt64(requestId);
    }

    /// <summary>
    /// Reads a list of at most <paramref name="limit"/> items with <paramref name="readItem"/>, the array sized by
    /// <see cref="Count"/>: by the items present, not by anything the peer states.
    /// </summary>
    public static T[] ReadList<T>(ref RlpReader reader, string message, string what, int limit, EthItemReader<T> readItem)
    {
        var list = reader.ReadList();
        var items = new T[Count(list, message, what, limit)];
        for (var i = 0; i < items.Length; i++)
        {
            items[i] = readItem(ref list, i);
        }
        return items;
    }

    public static int LengthOfHashes(int count) => RlpWriter.LengthOfList(count * RlpWriter.LengthOfHash256);

    public static void WriteHashes(ref RlpWriter writer, IReadOnlyList<Hash256> hashes)
    {
        writer.WriteListHeader(hashes.Count * RlpWriter.LengthOfHash256);
        foreach (var hash in hashes)
        {
            writer.WriteHash256(hash);
        }
    }

    /// <summary>Reads a list of 32-byte hashes, at most <paramref name="limit"/> of them.</summary>
    public static Hash256[] ReadHashes(ref RlpReader reader, string message, string what, int limit) =>
        ReadList(ref reader, message, what, limit, static (ref RlpReader list, int _) => list.ReadHash256());

    /// <summary>
    /// Counts a list's items, checking each item's prefix, and throws once there are more than
    /// <paramref name="limit"/>: the count arrays are sized by is the count of items present, and counting stops at
    /// the limit rather than walking a hostile list to its end.
    /// </summary>
    public static int Count(RlpReader list, string message, string what, int limit)
    {
        var count = 0;
        while (list.HasMore)
        {
            if (count == limit)
            {
                throw EthMessageException.TooMany(message, what, limit);
            }
            list.SkipItem();
            count++;
        }
        return count;
    }

    /// <summary>Length of a transaction inside a message: a legacy one is its own list, a typed one an RLP string (EIP-2718).</summary>
    public static int LengthOfTransaction(byte[] tx) => IsLegacy(tx) ? tx.Length : RlpWriter.LengthOfBytes(tx);

    public static void WriteTransaction(ref RlpWriter writer, byte[] tx)
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

    /// <summary>
    /// Reads one transaction of a pool message as its canonical bytes, checking the envelope only: a legacy list, or
    /// a string of a type byte 0x01..0x7f and one RLP list. The fields are not checked: a pooled blob transaction
    /// carries its network form ([tx, blobs, commitments, proofs]), and a pool, not this codec, judges contents.
    /// </summary>
    public static byte[] ReadTransaction(ref RlpReader reader, string message, int index)
    {
        if (reader.PeekIsList)
        {
            return reader.ReadRawItem().ToArray();
        }
        var offset = reader.Offset;
        var typed = reader.ReadBytes();
        if (typed.IsEmpty || typed[0] is 0 or >= 0x80)
        {
            throw EthMessageException.Of(
                message,
                $"transaction {index} is neither a legacy list nor an EIP-2718 typed transaction (at byte {offset})");
        }
        var body = new RlpReader(typed[1..]);
        body.ReadList();
        body.EnsureEnd();
        return typed.ToArray();
    }

    /// <summary>Reads a list of transactions, at most <paramref name="limit"/>.</summary>
    public static byte[][] ReadTransactions(ref RlpReader reader, string message, int limit) =>
        ReadList(ref reader, message, "transactions", limit, (ref RlpReader list, int i) => ReadTransaction(ref list, message, i));

    public static int LengthOfTransactions(IReadOnlyList<byte[]> transactions)
    {
        var length = 0;
        foreach (var tx in transactions)
        {
            length += LengthOfTransaction(tx);
        }
        return RlpWriter.LengthOfList(length);
    }

    public static void WriteTransactions(ref RlpWriter writer, IReadOnlyList<byte[]> transactions)
    {
        var length = 0;
        foreach (var tx in transactions)
        {
            length += LengthOfTransaction(tx);
        }
        writer.WriteListHeader(length);
        foreach (var tx in transactions)
        {
            WriteTransaction(ref writer, tx);
        }
    }

    /// <summary>Total length of items already encoded.</summary>
    public static int LengthOfRaw(IReadOnlyList<byte[]> items)
    {
        var length = 0;
        foreach (var item in items)
        {
            length += item.Length;
        }
        return length;
    }

    /// <summary>Length of a list of items already encoded, such as a block's receipts or a body.</summary>
    public static int LengthOfRawList(IReadOnlyList<byte[]> items) => RlpWriter.LengthOfList(LengthOfRaw(items));

    /// <summary>Writes a list of items already encoded, each as it is.</summary>
    public static void WriteRawList(ref RlpWriter writer, IReadOnlyList<byte[]> items)
    {
        writer.WriteListHeader(LengthOfRaw(items));
        foreach (var item in items)
        {
            writer.WriteRaw(item);
        }
    }

    /// <summary>Reads a non-negative integer that must fit in 32 bits (a version, a transaction size).</summary>
    public static uint ReadUInt32(ref RlpReader reader, string message, string what)
    {
        var offset = reader.Offset;
        var value = reader.ReadUInt64();
        return value <= uint.MaxValue
            ? (uint)value
            : throw EthMessageException.Of(message, $"{what} {value} does not fit in 32 bits (at byte {offset})");
    }

    private static bool IsLegacy(byte[] tx) => tx.Length > 0 && tx[0] >= 0xc0;
}

using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Rlp;

namespace EngineSkeleton.Network.DevP2p.Eth;

/// <summary>
/// Where a header query starts: a block number (RLP integer, at most 8 bytes) or a block hash (32-byte string).
/// Any other size is refused, as geth's HashOrNumber does.
/// </summary>
internal readonly record struct HeaderOrigin
{
    private HeaderOrigin(Hash256? hash, ulong number)
    {
        Hash = hash;
        Number = number;
    }

    /// <summary>The hash the query starts at, or null when it starts at <see cref="Number"/>.</summary>
    public Hash256? Hash { get; }

    public ulong Number { get; }

    public static HeaderOrigin ByNumber(ulong number) => new(null, number);

    public static HeaderOrigin ByHash(Hash256 hash) => new(hash, 0);

    public override string ToString() => Hash is { } hash ? hash.ToString() : Number.ToString(System.Globalization.CultureInfo.InvariantCulture);

    internal int EncodedLength => Hash is null ? RlpWriter.LengthOfUInt64(Number) : RlpWriter.LengthOfHash256;

    internal void Write(ref RlpWriter writer)
    {
        if (Hash is { } hash)
        {
            writer.WriteHash256(hash);
        }
        else
        {
            writer.WriteUInt64(Number);
        }
    }

    internal static HeaderOrigin Read(ref RlpReader reader)
    {
        var offset = reader.Offset;
        var probe = reader;
        var size = probe.ReadBytes().Length;
        return size switch
        {
            Hash256.Size => ByHash(reader.ReadHash256()),
            <= sizeof(ulong) => ByNumber(reader.ReadUInt64()),
            _ => throw EthMessageException.Of(
                "GetBlockHeaders",
                $"origin of {size} bytes is neither a block number (up to 8 bytes) nor a hash (32) (at byte {offset})"),
        };
    }
}

/// <summary>
/// GetBlockHeaders (0x03): [request-id, [origin, amount, skip, reverse]]. <see cref="Amount"/> is kept as sent; a
/// server answers at most <see cref="AmountToServe"/>, and must never size anything by the amount itself.
/// </summary>
internal sealed record GetBlockHeadersMessage(ulong RequestId, HeaderOrigin Origin, ulong Amount, ulong Skip, bool Reverse)
    : EthMessage, IEthExchange
{
    public override byte Code => EthMessageCode.GetBlockHeaders;

    /// <summary>The headers to answer with at most: the amount asked, capped at <see cref="EthLimits.MaxHeaders"/> as geth caps it.</summary>
    public int AmountToServe => (int)Math.Min(Amount, EthLimits.MaxHeaders);

    /// <summary>A request of ours: 1 to <see cref="EthLimits.MaxHeaders"/> headers, since no peer answers more.</summary>
    public static GetBlockHeadersMessage Request(ulong requestId, HeaderOrigin origin, int amount, ulong skip, bool reverse)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(amount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(amount, EthLimits.MaxHeaders);
        return new GetBlockHeadersMessage(requestId, origin, (ulong)amount, skip, reverse);
    }

    public static GetBlockHeadersMessage Decode(ReadOnlySpan<byte> payload) =>
        EthRlp.DecodeEnvelope(EthMessageCode.GetBlockHeaders, payload, static (ref RlpReader inner, ulong requestId) =>
        {
            var query = inner.ReadList();
            var origin = HeaderOrigin.Read(ref query);
            var amount = query.ReadUInt64();
            var skip = query.ReadUInt64();
            var offset = query.Offset;
            var reverse = query.ReadUInt64() switch
            {
                0 => false,
                1 => true,
                var other => throw EthMessageException.Of("GetBlockHeaders", $"reverse is {other}, not 0 or 1 (at byte {offset})"),
            };
            query.EnsureEnd();
            return new GetBlockHeadersMessage(requestId, origin, amount, skip, reverse);
        });

    private int QueryLength =>
        Origin.EncodedLength + RlpWriter.LengthOfUInt64(Amount) + RlpWriter.LengthOfUInt64(Skip) + 1;

    private protected override int EncodedLength() => EthRlp.LengthOfEnvelope(RequestId, RlpWriter.LengthOfList(QueryLength));

    private protected override void Write(ref RlpWriter writer)
    {
        EthRlp.WriteEnvelope(ref writer, RequestId, RlpWriter.LengthOfList(QueryLength));
        writer.WriteListHeader(QueryLength);
        Origin.Write(ref writer);
        writer.WriteUInt64(Amount);
        writer.WriteUInt64(Skip);
        writer.WriteUInt64(Reverse ? 1UL : 0UL);
    }
}

/// <summary>
/// BlockHeaders (0x04): [request-id, [header, ...]], at most <see cref="EthLimits.MaxHeaders"/>. Each header keeps
/// the bytes it came in (<see cref="BlockHeader.EncodedBytes"/>) and is hashed when first asked. The headers'
/// encodings are taken once, when the message is first encoded (or given by the server that just took them).
/// </summary>
internal sealed record BlockHeadersMessage : EthMessage, IEthExchange
{
    private IReadOnlyList<byte[]>? _encoded;

    public BlockHeadersMessage(ulong requestId, IReadOnlyList<BlockHeader> headers)
    {
        RequestId = requestId;
        Headers = headers;
    }

    /// <summary>An answer whose headers' encodings are known: <paramref name="encoded"/>[i] is headers[i]'s RLP.</summary>
    internal BlockHeadersMessage(ulong requestId, IReadOnlyList<BlockHeader> headers, IReadOnlyList<byte[]> encoded)
        : this(requestId, headers)
    {
        if (encoded.Count != headers.Count)
        {
            throw new ArgumentException($"{encoded.Count} encodings for {headers.Count} headers", nameof(encoded));
        }
        _encoded = encoded;
    }

    public ulong RequestId { get; }

    public IReadOnlyList<BlockHeader> Headers { get; }

    public override byte Code => EthMessageCode.BlockHeaders;

    public static BlockHeadersMessage Decode(ReadOnlySpan<byte> payload) =>
        EthRlp.DecodeEnvelope(EthMessageCode.BlockHeaders, payload, static (ref RlpReader inner, ulong requestId) =>
            new BlockHeadersMessage(
                requestId,
                EthRlp.ReadList(ref inner, "BlockHeaders", "headers", EthLimits.MaxHeaders, static (ref RlpReader list, int _) => BlockHeader.Decode(list.ReadRawItem()))));

    private protected override int EncodedLength() => EthRlp.LengthOfEnvelope(RequestId, EthRlp.LengthOfRawList(Encoded()));

    private protected override void Write(ref RlpWriter writer)
    {
        var encoded = Encoded();
        EthRlp.WriteEnvelope(ref writer, RequestId, EthRlp.LengthOfRawList(encoded));
        EthRlp.WriteRawList(ref writer, encoded);
    }

    private IReadOnlyList<byte[]> Encoded() => _encoded ??= [.. Headers.Select(h => h.EncodedBytes())];
}

/// <summary>GetBlockBodies (0x05): [request-id, [hash, ...]]. Served up to <see cref="EthLimits.MaxBodies"/>.</summary>
internal sealed record GetBlockBodiesMessage(ulong RequestId, IReadOnlyList<Hash256> Hashes) : EthHashesRequest(RequestId, Hashes)
{
    public override byte Code => EthMessageCode.GetBlockBodies;

    /// <summary>A request of ours: 1 to <see cref="EthLimits.MaxBodies"/> hashes, since no peer answers more.</summary>
    public static GetBlockBodiesMessage Request(ulong requestId, IReadOnlyList<Hash256> hashes)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        ArgumentOutOfRangeException.ThrowIfLessThan(hashes.Count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(hashes.Count, EthLimits.MaxBodies);
        return new GetBlockBodiesMessage(requestId, hashes);
    }

    public static GetBlockBodiesMessage Decode(ReadOnlySpan<byte> payload) =>
        Decode(EthMessageCode.GetBlockBodies, payload, static (requestId, hashes) => new GetBlockBodiesMessage(requestId, hashes));
}

/// <summary>
/// BlockBodies (0x06): [request-id, [[transactions, ommers, withdrawals?], ...]], at most
/// <see cref="EthLimits.MaxBodies"/>; each body as <see cref="BlockBody"/> decodes it (withdrawals present from
/// Shanghai on, every transaction checked for its type's shape). Get-only, so that the bodies' encodings, made once
/// when the message is first encoded, cannot go stale through <c>with</c>.
/// </summary>
internal sealed record BlockBodiesMessage : EthMessage, IEthExchange
{
    private byte[][]? _encoded;

    public BlockBodiesMessage(ulong requestId, IReadOnlyList<BlockBody> bodies)
    {
        RequestId = requestId;
        Bodies = bodies;
    }

    public ulong RequestId { get; }

    public IReadOnlyList<BlockBody> Bodies { get; }

    public override byte Code => EthMessageCode.BlockBodies;

    public static BlockBodiesMessage Decode(ReadOnlySpan<byte> payload) =>
        EthRlp.DecodeEnvelope(EthMessageCode.BlockBodies, payload, static (ref RlpReader inner, ulong requestId) =>
            new BlockBodiesMessage(
                requestId,
                EthRlp.ReadList(ref inner, "BlockBodies", "bodies", EthLimits.MaxBodies, static (ref RlpReader list, int _) => BlockBody.Decode(list.ReadRawItem()))));

    private protected override int EncodedLength() => EthRlp.LengthOfEnvelope(RequestId, EthRlp.LengthOfRawList(Encoded()));

    private protected override void Write(ref RlpWriter writer)
    {
        var encoded = Encoded();
        EthRlp.WriteEnvelope(ref writer, RequestId, EthRlp.LengthOfRawList(encoded));
        EthRlp.WriteRawList(ref writer, encoded);
    }

    private byte[][] Encoded() => _encoded ??= [.. Bodies.Select(b => b.Encode())];
}

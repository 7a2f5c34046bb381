using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Rlp;

namespace EngineSkeleton.Network.DevP2p.Eth;

/// <summary>
/// Transactions (0x02): [tx, ...], each as its canonical bytes (a legacy RLP list, or type || payload), at most
/// <see cref="EthLimits.MaxTransactions"/>. The engine keeps no pool: the codec exists so that a peer's broadcast
/// is read and dropped rather than taken for garbage.
/// </summary>
internal sealed record TransactionsMessage(IReadOnlyList<byte[]> Transactions) : EthMessage
{
    public override byte Code => EthMessageCode.Transactions;

    public static TransactionsMessage Decode(ReadOnlySpan<byte> payload) =>
        EthRlp.Decode(EthMessageCode.Transactions, payload, static (ref RlpReader reader) =>
            new TransactionsMessage(EthRlp.ReadTransactions(ref reader, "Transactions", EthLimits.MaxTransactions)));

    private protected override int EncodedLength() => EthRlp.LengthOfTransactions(Transactions);

    private protected override void Write(ref RlpWriter writer) => EthRlp.WriteTransactions(ref writer, Transactions);
}

/// <summary>
/// NewPooledTransactionHashes (0x08, eth/68 and eth/69, EIP-5793): [types, [size, ...], [hash, ...]], three lists of
/// one length. Bounded by the message size; a pool would take at most 4,096 a peer (geth txfetcher maxTxAnnounces).
/// </summary>
internal sealed record NewPooledTransactionHashesMessage(byte[] Types, IReadOnlyList<uint> Sizes, IReadOnlyList<Hash256> Hashes)
    : EthMessage
{
    public override byte Code => EthMessageCode.NewPooledTransactionHashes;

    public static NewPooledTransactionHashesMessage Decode(ReadOnlySpan<byte> payload) =>
        EthRlp.DecodeFields(EthMessageCode.NewPooledTransactionHashes, payload, static (ref RlpReader fields) =>
        {
            const string name = "NewPooledTransactionHashes";
            var types = fields.ReadBytes().ToArray();
            var sizes = EthRlp.ReadList(ref fields, name, "sizes", int.MaxValue, static (ref RlpReader list, int _) => EthRlp.ReadUInt32(ref list, name, "size"));
            var hashes = EthRlp.ReadHashes(ref fields, name, "hashes", int.MaxValue);
            if (sizes.Length != types.Length || hashes.Length != types.Length)
            {
                throw EthMessageException.Of(name, $"{types.Length} types, {sizes.Length} sizes and {hashes.Length} hashes: the three must match");
            }
            return new NewPooledTransactionHashesMessage(types, sizes, hashes);
        });

    private int SizesLength()
    {
        var length = 0;
        foreach (var size in Sizes)
        {
            length += RlpWriter.LengthOfUInt64(size);
        }
        return length;
    }

    private int PayloadLength =>
        RlpWriter.LengthOfBytes(Types) + RlpWriter.LengthOfList(SizesLength()) + EthRlp.LengthOfHashes(Hashes.Count);

    private protected override int EncodedLength() => RlpWriter.LengthOfList(PayloadLength);

    private protected override void Write(ref RlpWriter writer)
    {
        writer.WriteListHeader(PayloadLength);
        writer.WriteBytes(Types);
        writer.WriteListHeader(SizesLength());
        foreach (var size in Sizes)
        {
            writer.WriteUInt64(size);
        }
        EthRlp.WriteHashes(ref writer, Hashes);
    }
}

/// <summary>GetPooledTransactions (0x09): [request-id, [hash, ...]]. Bounded by the message size.</summary>
internal sealed record GetPooledTransactionsMessage(ulong RequestId, IReadOnlyList<Hash256> Hashes) : EthHashesRequest(RequestId, Hashes)
{
    public override byte Code => EthMessageCode.GetPooledTransactions;

    public static GetPooledTransactionsMessage Decode(ReadOnlySpan<byte> payload) =>
        Decode(EthMessageCode.GetPooledTransactions, payload, static (requestId, hashes) => new GetPooledTransactionsMessage(requestId, hashes));
}

/// <summary>
/// PooledTransactions (0x0a): [request-id, [tx, ...]], blob transactions in their network form. With no pool, the
/// engine answers every GetPooledTransactions with <see cref="Empty"/> (caps/eth.md: an empty list when none match).
/// </summary>
internal sealed record PooledTransactionsMessage(ulong RequestId, IReadOnlyList<byte[]> Transactions) : EthMessage, IEthExchange
{
    public override byte Code => EthMessageCode.PooledTransactions;

    public static PooledTransactionsMessage Empty(ulong requestId) => new(requestId, []);

    public static PooledTransactionsMessage Decode(ReadOnlySpan<byte> payload) =>
        EthRlp.DecodeEnvelope(EthMessageCode.PooledTransactions, payload, static (ref RlpReader inner, ulong requestId) =>
            new PooledTransactionsMessage(requestId, EthRlp.ReadTransactions(ref inner, "PooledTransactions", int.MaxValue)));

    private protected override int EncodedLength() => EthRlp.LengthOfEnvelope(RequestId, EthRlp.LengthOfTransactions(Transactions));

    private protected override void Write(ref RlpWriter writer)
    {
        EthRlp.WriteEnvelope(ref writer, RequestId, EthRlp.LengthOfTransactions(Transactions));
        EthRlp.WriteTransactions(ref writer, Transactions);
    }
}

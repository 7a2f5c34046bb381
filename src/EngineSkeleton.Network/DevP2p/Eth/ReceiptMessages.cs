using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Rlp;

namespace EngineSkeleton.Network.DevP2p.Eth;

/// <summary>GetReceipts (0x0f): [request-id, [blockhash, ...]], the same in eth/68 and eth/69. Bounded by the message size.</summary>
internal sealed record GetReceiptsMessage(ulong RequestId, IReadOnlyList<Hash256> Hashes) : EthHashesRequest(RequestId, Hashes)
{
    public override byte Code => EthMessageCode.GetReceipts;

    public static GetReceiptsMessage Decode(ReadOnlySpan<byte> payload) =>
        Decode(EthMessageCode.GetReceipts, payload, static (requestId, hashes) => new GetReceiptsMessage(requestId, hashes));
}

/// <summary>
/// Receipts (0x10): [request-id, [[receipt, ...], ...]], one list per block. The engine executes nothing and keeps
/// no receipts, so it answers with <see cref="Empty"/>, which both versions read alike (caps/eth.md: a server ends
/// its answer at the first block it lacks). A received answer keeps each block's list as its RLP bytes, unread:
/// the receipt encodings differ by version (EIP-7642) and nothing here consumes them. At most
/// <see cref="EthLimits.MaxReceiptLists"/> lists.
/// </summary>
internal sealed record ReceiptsMessage(ulong RequestId, IReadOnlyList<byte[]> BlockReceipts) : EthMessage, IEthExchange
{
    public override byte Code => EthMessageCode.Receipts;

    public static ReceiptsMessage Empty(ulong requestId) => new(requestId, []);

    public static ReceiptsMessage Decode(ReadOnlySpan<byte> payload) =>
        EthRlp.DecodeEnvelope(EthMessageCode.Receipts, payload, static (ref RlpReader inner, ulong requestId) =>
            new ReceiptsMessage(
                requestId,
                EthRlp.ReadList(ref inner, "Receipts", "block receipt lists", EthLimits.MaxReceiptLists, ReadBlockReceipts)));

    private static byte[] ReadBlockReceipts(ref RlpReader list, int block)
    {
        var offset = list.Offset;
        return list.PeekIsList
            ? list.ReadRawItem().ToArray()
            : throw EthMessageException.Of("Receipts", $"the receipts of block {block} are not a list (at byte {offset})");
    }

    private protected override int EncodedLength() => EthRlp.LengthOfEnvelope(RequestId, EthRlp.LengthOfRawList(BlockReceipts));

    private protected override void Write(ref RlpWriter writer)
    {
        EthRlp.WriteEnvelope(ref writer, RequestId, EthRlp.LengthOfRawList(BlockReceipts));
        EthRlp.WriteRawList(ref writer, BlockReceipts);
    }
}

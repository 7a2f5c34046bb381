using System.Diagnostics.CodeAnalysis;

namespace EngineSkeleton.Network.DevP2p.Eth;

/// <summary>
/// Decodes any eth message by its code, for the version the connection negotiated: the one entry point a peer's
/// read loop needs. A code the version does not define is refused like malformed data (geth: errInvalidMsgCode).
/// </summary>
internal static class EthMessages
{
    /// <summary>Decodes one message; throws <see cref="EthMessageException"/> and nothing else for what a peer sent.</summary>
    public static EthMessage Decode(int version, byte code, ReadOnlySpan<byte> payload)
    {
        if (!EthProtocol.IsSupported(version))
        {
            throw new ArgumentOutOfRangeException(nameof(version), version, "eth/68 and eth/69 are the versions spoken");
        }
        if (!EthMessageCode.IsDefined(version, code))
        {
            throw EthMessageException.Of(EthMessageCode.NameOf(code), $"not a message of eth/{version}");
        }
        return code switch
        {
            EthMessageCode.Status => StatusMessage.Decode(version, payload),
            EthMessageCode.NewBlockHashes => NewBlockHashesMessage.Decode(payload),
            EthMessageCode.Transactions => TransactionsMessage.Decode(payload),
            EthMessageCode.GetBlockHeaders => GetBlockHeadersMessage.Decode(payload),
            EthMessageCode.BlockHeaders => BlockHeadersMessage.Decode(payload),
            EthMessageCode.GetBlockBodies => GetBlockBodiesMessage.Decode(payload),
            EthMessageCode.BlockBodies => BlockBodiesMessage.Decode(payload),
            EthMessageCode.NewBlock => NewBlockMessage.Decode(payload),
            EthMessageCode.NewPooledTransactionHashes => NewPooledTransactionHashesMessage.Decode(payload),
            EthMessageCode.GetPooledTransactions => GetPooledTransactionsMessage.Decode(payload),
            EthMessageCode.PooledTransactions => PooledTransactionsMessage.Decode(payload),
            EthMessageCode.GetReceipts => GetReceiptsMessage.Decode(payload),
            EthMessageCode.Receipts => ReceiptsMessage.Decode(payload),
            EthMessageCode.BlockRangeUpdate => BlockRangeUpdateMessage.Decode(payload),
            _ => throw new InvalidOperationException($"eth code 0x{code:x2} is defined but has no decoder"),
        };
    }

    /// <summary>As <see cref="Decode"/>, with the refusal as a value: the reason to disconnect with.</summary>
    public static bool TryDecode(
        int version,
        byte code,
        ReadOnlySpan<byte> payload,
        [NotNullWhen(true)] out EthMessage? message,
        [NotNullWhen(false)] out string? error)
    {
        try
        {
            message = Decode(version, code, payload);
            error = null;
            return true;
        }
        catch (EthMessageException e)
        {
            message = null;
            error = e.Message;
            return false;
        }
    }
}

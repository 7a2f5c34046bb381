namespace EngineSkeleton.Network.DevP2p.Eth;

/// <summary>
/// The eth capability as RLPx negotiates it (devp2p caps/eth.md): its name, the versions we speak and how many
/// message codes each takes after the capability's offset.
/// </summary>
internal static class EthProtocol
{
    public const string Name = "eth";

    /// <summary>EIP-5793: typed transaction announcements; Status carries the total difficulty and the head hash.</summary>
    public const int Eth68 = 68;

    /// <summary>EIP-7642: Status carries the served block range instead; BlockRangeUpdate; receipts without bloom.</summary>
    public const int Eth69 = 69;

    /// <summary>The versions we offer, preferred first (RLPx picks the highest both sides share).</summary>
    public static IReadOnlyList<int> Versions { get; } = [Eth69, Eth68];

    public static bool IsSupported(int version) => version is Eth68 or Eth69;

    /// <summary>
    /// Message codes the version reserves from its offset on: 0x00..0x10 for eth/68, 0x00..0x11 for eth/69 (geth
    /// protocolLengths 17 and 18). The next capability's offset is this one's plus this.
    /// </summary>
    public static int MessageSpace(int version) => version switch
    {
        Eth68 => 17,
        Eth69 => 18,
        _ => throw new ArgumentOutOfRangeException(nameof(version), version, "eth/68 and eth/69 are the versions spoken"),
    };
}

/// <summary>eth message codes, relative to the capability's offset in the RLPx message space.</summary>
internal static class EthMessageCode
{
    public const byte Status = 0x00;

    /// <summary>eth/68 only: geth's eth/69 handler table has no entry for it (block propagation ended with the merge).</summary>
    public const byte NewBlockHashes = 0x01;

    public const byte Transactions = 0x02;
    public const byte GetBlockHeaders = 0x03;
    public const byte BlockHeaders = 0x04;
    public const byte GetBlockBodies = 0x05;
    public const byte BlockBodies = 0x06;

    /// <summary>eth/68 only, as <see cref="NewBlockHashes"/>.</summary>
    public const byte NewBlock = 0x07;

    public const byte NewPooledTransactionHashes = 0x08;
    public const byte GetPooledTransactions = 0x09;
    public const byte PooledTransactions = 0x0a;
    public const byte GetReceipts = 0x0f;
    public const byte Receipts = 0x10;

    /// <summary>eth/69 on (EIP-7642).</summary>
    public const byte BlockRangeUpdate = 0x11;

    /// <summary>Whether <paramref name="code"/> is a message of <paramref name="version"/>.</summary>
    public static bool IsDefined(int version, byte code) => code switch
    {
        Status or Transactions or GetBlockHeaders or BlockHeaders or GetBlockBodies or BlockBodies
            or NewPooledTransactionHashes or GetPooledTransactions or PooledTransactions or GetReceipts or Receipts => true,
        NewBlockHashes or NewBlock => version == EthProtocol.Eth68,
        BlockRangeUpdate => version >= EthProtocol.Eth69,
        _ => false,
    };

    public static string NameOf(byte code) => code switch
    {
        Status => "Status",
        NewBlockHashes => "NewBlockHashes",
        Transactions => "Transactions",
        GetBlockHeaders => "GetBlockHeaders",
        BlockHeaders => "BlockHeaders",
        GetBlockBodies => "GetBlockBodies",
        BlockBodies => "BlockBodies",
        NewBlock => "NewBlock",
        NewPooledTransactionHashes => "NewPooledTransactionHashes",
        GetPooledTransactions => "GetPooledTransactions",
        PooledTransactions => "PooledTransactions",
        GetReceipts => "GetReceipts",
        Receipts => "Receipts",
        BlockRangeUpdate => "BlockRangeUpdate",
        _ => $"0x{code:x2}",
    };
}

/// <summary>
/// What we accept from a peer. Answers above these counts are refused (a peer that sends more than geth would
/// serve is not a client we can use); requests are not refused for their size but served up to these counts.
/// </summary>
internal static class EthLimits
{
    /// <summary>Largest eth message, decoded size: 10 MiB (geth maxMessageSize; caps/eth.md: "typically 10 MiB").</summary>
    public const int MaxMessageSize = 10 * 1024 * 1024;

    /// <summary>Headers in one BlockHeaders answer: 1,024, the most geth serves (eth/protocols/eth maxHeadersServe).</summary>
    public const int MaxHeaders = 1024;

    /// <summary>Bodies in one BlockBodies answer: 1,024, the most geth serves (maxBodiesServe).</summary>
    public const int MaxBodies = 1024;

    /// <summary>Block receipt lists in one Receipts answer: 1,024, the most geth serves (maxReceiptsServe).</summary>
    public const int MaxReceiptLists = 1024;

    /// <summary>Transactions in one Transactions message: 5,000 (geth maxTransactionAnnouncements, "too many transactions").</summary>
    public const int MaxTransactions = 5000;
}

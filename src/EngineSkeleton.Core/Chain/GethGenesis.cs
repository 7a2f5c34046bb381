using System.Globalization;
using System.Numerics;
using System.Text.Json;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Trie;

namespace EngineSkeleton.Core.Chain;

/// <summary>
/// A geth-format genesis.json: the chain config and the genesis block, whose header (state root over the alloc
/// included) is computed here so that its hash is the anchor block 1 must link to.
/// </summary>
public sealed record GethGenesis(ChainSpec Spec, BlockHeader Header)
{
    /// <summary>geth's default when genesis.json gives no gas limit (params.GenesisGasLimit).</summary>
    private const ulong DefaultGasLimit = 4_712_388;

    /// <summary>geth's default when a proof-of-work genesis gives no difficulty (params.GenesisDifficulty).</summary>
    private static readonly BigInteger DefaultDifficulty = 131_072;

    /// <summary>EIP-1559 INITIAL_BASE_FEE, used when London is active at genesis and no baseFeePerGas is given.</summary>
    private static readonly BigInteger InitialBaseFee = 1_000_000_000;

    /// <summary>
    /// The chain config keys of forks scheduled by block number: geth's ChainConfig fields ending in Block
    /// (params/config.go at 02b73d4), which its fork id (core/forkid gatherForks) counts. Keys geth does not know are
    /// not forks to it either, so they are not read.
    /// </summary>
    private static readonly string[] BlockForkKeys =
    [
        "homesteadBlock", "daoForkBlock", "eip150Block", "eip155Block", "eip158Block", "byzantiumBlock",
        "constantinopleBlock", "petersburgBlock", "istanbulBlock", "muirGlacierBlock", "berlinBlock", "londonBlock",
        "arrowGlacierBlock", "grayGlacierBlock", "mergeNetsplitBlock",
    ];

    /// <summary>The chain config keys of forks scheduled by timestamp: geth's ChainConfig fields ending in Time, as above.</summary>
    private static readonly string[] TimeForkKeys =
    [
        "shanghaiTime", "cancunTime", "pragueTime", "osakaTime", "bpo1Time", "bpo2Time", "bpo3Time", "bpo4Time",
        "bpo5Time", "amsterdamTime", "bogotaTime", "ubtTime",
    ];

    /// <summary>Timestamped forks that carry a blob schedule entry, in activation order (EIP-7840, EIP-7892).</summary>
    private static readonly string[] BlobForks = ["cancun", "prague", "osaka", "bpo1", "bpo2", "bpo3", "bpo4", "bpo5"];

    public static GethGenesis Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new GenesisException($"cannot read genesis file {path}: {e.Message}");
        }
        return Parse(text, Path.GetFileNameWithoutExtension(path));
    }

    public static GethGenesis Parse(string json, string name = "custom")
    {
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            return FromJson(doc.RootElement, name);
        }
        catch (JsonException e)
        {
            throw new GenesisException($"genesis is not valid JSON: {e.Message}");
        }
    }

    private static GethGenesis FromJson(JsonElement root, string name)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("config", out var config) || config.ValueKind != JsonValueKind.Object)
        {
            throw new GenesisException("genesis has no \"config\" object");
        }
        var chainId = Quantity(config, "chainId") ?? throw new GenesisException("genesis config has no chainId");
        var spec = new ChainSpec
        {
            Name = name,
            ChainId = (ulong)chainId,
            GenesisHash = Hash256.Zero, // set below, once the header is known
            LondonBlock = U64(config, "londonBlock"),
            TerminalTotalDifficulty = Quantity(config, "terminalTotalDifficulty"),
            MergeBlock = U64(config, "mergeNetsplitBlock"),
            ShanghaiTime = U64(config, "shanghaiTime"),
            CancunTime = U64(config, "cancunTime"),
            PragueTime = U64(config, "pragueTime"),
            OsakaTime = U64(config, "osakaTime"),
            BlobSchedule = ReadBlobSchedule(config),
            ForkBlocks = ReadForks(config, BlockForkKeys),
            ForkTimes = ReadForks(config, TimeForkKeys),
        };

        var timestamp = U64(root, "timestamp") ?? 0;
        var number = U64(root, "number") ?? 0;
        var mixHash = Hash(root, "mixHash") ?? Hash256.Zero;
        var difficulty = Quantity(root, "difficulty")
            ?? (mixHash.IsZero && !(spec.TerminalTotalDifficulty?.IsZero ?? false) ? DefaultDifficulty : BigInteger.Zero);
        var shanghai = spec.ShanghaiTime <= timestamp;
        var cancun = spec.CancunTime <= timestamp;
        var prague = spec.PragueTime <= timestamp;

        var header = new BlockHeader
        {
            ParentHash = Hash(root, "parentHash") ?? Hash256.Zero,
            OmmersHash = Keccak256.OfEmptyList,
            Beneficiary = root.TryGetProperty("coinbase", out var cb) && cb.ValueKind == JsonValueKind.String ? Address.FromHex(cb.GetString()!) : Address.Zero,
            StateRoot = StateRoots.OfAccounts(ReadAlloc(root)),
            TransactionsRoot = Keccak256.EmptyTrieRoot,
            ReceiptsRoot = Keccak256.EmptyTrieRoot,
            LogsBloom = new byte[256],
            Difficulty = difficulty,
            Number = number,
            GasLimit = U64(root, "gasLimit") is { } gl and not 0 ? gl : DefaultGasLimit,
            GasUsed = U64(root, "gasUsed") ?? 0,
            Timestamp = timestamp,
            ExtraData = Bytes(root, "extraData") ?? [],
            MixHash = mixHash,
            Nonce = U64(root, "nonce") ?? 0,
            BaseFeePerGas = spec.IsLondon(number) ? Quantity(root, "baseFeePerGas") ?? InitialBaseFee : null,
            WithdrawalsRoot = shanghai ? Keccak256.EmptyTrieRoot : null,
            BlobGasUsed = cancun ? U64(root, "blobGasUsed") ?? 0 : null,
            ExcessBlobGas = cancun ? U64(root, "excessBlobGas") ?? 0 : null,
            ParentBeaconBlockRoot = cancun ? Hash256.Zero : null,
            RequestsHash = prague ? ExecutionRequests.EmptyHash : null,
        };
        return new GethGenesis(spec with { GenesisHash = header.Hash, GenesisTimestamp = timestamp }, header);
    }

    private static ulong[] ReadForks(JsonElement config, string[] keys)
    {
        var forks = new List<ulong>();
        foreach (var key in keys)
        {
            if (U64(config, key) is { } at)
            {
                forks.Add(at);
            }
        }
        return [.. forks];
    }

    private static (ulong Time, BlobParameters Parameters)[] ReadBlobSchedule(JsonElement config)
    {
        var schedule = new List<(ulong, BlobParameters)>();
        config.TryGetProperty("blobSchedule", out var blobs);
        foreach (var fork in BlobForks)
        {
            if (U64(config, fork + "Time") is not { } time)
            {
                continue;
            }
            BlobParameters? parameters = null;
            if (blobs.ValueKind == JsonValueKind.Object && blobs.TryGetProperty(fork, out var entry) && entry.ValueKind == JsonValueKind.Object)
            {
                parameters = new BlobParameters(
                    U64(entry, "target") ?? throw new GenesisException($"blobSchedule.{fork} has no target"),
                    U64(entry, "max") ?? throw new GenesisException($"blobSchedule.{fork} has no max"),
                    U64(entry, "baseFeeUpdateFraction") ?? throw new GenesisException($"blobSchedule.{fork} has no baseFeeUpdateFraction"));
            }
            // geth falls back to the mainnet defaults for the three named forks when a config omits them.
            parameters ??= fork switch
            {
                "cancun" => BlobParameters.Cancun,
                "prague" => BlobParameters.Prague,
                "osaka" => BlobParameters.Osaka,
                _ => throw new GenesisException($"{fork}Time is set but blobSchedule.{fork} is missing"),
            };
            schedule.Add((time, parameters));
        }
        return [.. schedule.OrderBy(s => s.Item1)];
    }

    private static List<AccountEntry> ReadAlloc(JsonElement root)
    {
        var accounts = new List<AccountEntry>();
        if (!root.TryGetProperty("alloc", out var alloc) || alloc.ValueKind == JsonValueKind.Null)
        {
            return accounts;
        }
        if (alloc.ValueKind != JsonValueKind.Object)
        {
            throw new GenesisException("genesis alloc is not an object");
        }
        foreach (var account in alloc.EnumerateObject())
        {
            var key = account.Name.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? account.Name : "0x" + account.Name;
            if (!Hex.TryDecodeFixed(key, Address.Size, out var addressBytes))
            {
                throw new GenesisException($"alloc key '{Hex.Truncate(account.Name)}' is not an address");
            }
            var body = account.Value;
            var storage = new Dictionary<Hash256, Hash256>();
            if (body.TryGetProperty("storage", out var slots) && slots.ValueKind == JsonValueKind.Object)
            {
                foreach (var slot in slots.EnumerateObject())
                {
                    storage[Word(slot.Name, "storage key")] = Word(slot.Value.GetString(), "storage value");
                }
            }
            accounts.Add(new AccountEntry(
                new Address(addressBytes),
                U64(body, "nonce") ?? 0,
                Quantity(body, "balance") ?? BigInteger.Zero,
                Bytes(body, "code") ?? [],
                storage));
        }
        return accounts;
    }

    /// <summary>A storage word: hex of up to 32 bytes, left-padded with zeros as geth reads it.</summary>
    private static Hash256 Word(string? hex, string what)
    {
        if (hex is null || !hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase) || hex.Length > 66)
        {
            throw new GenesisException($"{what} '{Hex.Truncate(hex)}' is not a 32-byte hex word");
        }
        var digits = hex[2..].PadLeft(64, '0');
        return Hash256.TryParse("0x" + digits, out var word) ? word : throw new GenesisException($"{what} '{Hex.Truncate(hex)}' is not hex");
    }

    private static Hash256? Hash(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            ? Hash256.TryParse(v.GetString(), out var h) ? h : throw new GenesisException($"{name} is not a 32-byte hex hash")
            : null;

    private static byte[]? Bytes(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            ? Hex.TryDecode(v.GetString(), out var b) ? b : throw new GenesisException($"{name} is not 0x-prefixed hex")
            : null;

    private static ulong? U64(JsonElement obj, string name)
    {
        var q = Quantity(obj, name);
        return q is null ? null : q <= ulong.MaxValue && q >= 0 ? (ulong)q : throw new GenesisException($"{name} does not fit in 64 bits");
    }

    /// <summary>A number as geth's genesis accepts it: JSON number, hex string or decimal string.</summary>
    private static BigInteger? Quantity(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (v.ValueKind == JsonValueKind.Number)
        {
            return BigInteger.Parse(v.GetRawText(), NumberStyles.None, CultureInfo.InvariantCulture);
        }
        var s = v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new GenesisException($"{name} is not a number");
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            var digits = s[2..];
            return digits.Length > 0 && digits.All(char.IsAsciiHexDigit)
                ? BigInteger.Parse("0" + digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture)
                : throw new GenesisException($"{name} '{Hex.Truncate(s)}' is not a hex number");
        }
        return BigInteger.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var d)
            ? d
            : throw new GenesisException($"{name} '{Hex.Truncate(s)}' is not a number");
    }
}

/// <summary>A genesis file that cannot be used; its message is the one line startup prints.</summary>
public sealed class GenesisException : Exception
{
    public GenesisException(string message)
        : base(message)
    {
    }

    public GenesisException()
    {
    }

    public GenesisException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

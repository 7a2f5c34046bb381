using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace EngineSkeleton.EndToEnd.Tests.Fixtures;

/// <summary>
/// Once per test run: installs Node 22 and hardhat 3 (if the stamp is stale), starts a hardhat node (Osaka) and
/// mines <see cref="BlocksVariable"/> blocks on it with evm_mine in batches (Fixtures/hardhat/mine.mjs), three
/// transactions in the first block of each batch. The node keeps running for the whole collection.
/// </summary>
public sealed class HardhatChainFixture(IMessageSink diagnostics) : IAsyncLifetime
{
    /// <summary>Chain length; CI can size the run with it, never below <see cref="MinimumBlocks"/>.</summary>
    public const string BlocksVariable = "E2E_HARDHAT_BLOCKS";

    /// <summary>Issue 4: the fallback path is proven on an Osaka chain of at least 1,000 blocks.</summary>
    public const int MinimumBlocks = 1000;

    private NodeTooling? _nodeTooling;
    private HardhatTooling? _tooling;
    private HardhatNode? _node;
    private HardhatChain? _chain;

    public NodeTooling NodeTooling => _nodeTooling ?? throw NotReady();

    public HardhatTooling Tooling => _tooling ?? throw NotReady();

    public HardhatNode Node => _node ?? throw NotReady();

    public HardhatChain Chain => _chain ?? throw NotReady();

    /// <summary>Temp directory holding genesis.json and chain.json for this run.</summary>
    public string WorkDirectory { get; } = Directory.CreateTempSubdirectory("engineskeleton-e2e-hardhat-").FullName;

    public static int ConfiguredBlocks()
    {
        var text = Environment.GetEnvironmentVariable(BlocksVariable);
        if (string.IsNullOrWhiteSpace(text))
        {
            return MinimumBlocks;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var blocks) && blocks is >= MinimumBlocks and <= 100_000
            ? blocks
            : throw new InvalidOperationException($"{BlocksVariable} must be a block count from {MinimumBlocks} to 100000, got '{text}'.");
    }

    public async Task InitializeAsync()
    {
        var blocks = ConfiguredBlocks();
        var clock = Stopwatch.StartNew();
        _nodeTooling = await NodeTooling.EnsureInstalledAsync();
        _tooling = await HardhatTooling.EnsureInstalledAsync(_nodeTooling);
        var installed = clock.Elapsed;

        clock.Restart();
        _node = await HardhatNode.StartAsync(_tooling);
        var started = clock.Elapsed;

        clock.Restart();
        var genesisFile = Path.Combine(WorkDirectory, "genesis.json");
        var chainFile = Path.Combine(WorkDirectory, "chain.json");
        var mined = await _tooling.RunScriptAsync(
            "mine.mjs",
            ["--rpc-url", _node.RpcUrl.ToString(), "--blocks", blocks.ToString(CultureInfo.InvariantCulture), "--genesis-out", genesisFile, "--chain-out", chainFile],
            TimeSpan.FromMinutes(5));
        if (mined.ExitCode != 0 || !mined.StandardOutput.Any(l => l.StartsWith("{\"done\":true", StringComparison.Ordinal)))
        {
            throw new InvalidOperationException($"mine.mjs failed (exit {mined.ExitCode}).\n{mined.Diagnostics}\n{_node.Process.Diagnostics()}");
        }

        _chain = HardhatChain.Load(chainFile, genesisFile);
        diagnostics.OnMessage(new DiagnosticMessage(
            $"[e2e] hardhat: installed in {installed.TotalSeconds:F1} s, started in {started.TotalSeconds:F1} s, "
            + $"{blocks} blocks mined in {clock.Elapsed.TotalSeconds:F1} s ({_chain.Blocks.Sum(b => b.TransactionCount)} transactions); chain at {chainFile}"));
    }

    public async Task DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }

        if (Environment.GetEnvironmentVariable("E2E_KEEP_TEMP") != "1")
        {
            try
            {
                Directory.Delete(WorkDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temp dir is not worth failing the run over.
            }
        }
    }

    private static InvalidOperationException NotReady() => new("The hardhat chain fixture is not initialized.");
}

/// <summary>
/// The chain mine.mjs left on hardhat: every block 0..head as hardhat's eth_getBlockByNumber gives it, and the
/// geth-format genesis.json (<c>GenesisFile</c>) it read back from hardhat.
/// </summary>
public sealed record HardhatChain(string GenesisHash, long Head, IReadOnlyList<HardhatBlock> Blocks, string GenesisFile)
{
    public HardhatBlock HeadBlock => Blocks[^1];

    internal static HardhatChain Load(string chainFile, string genesisFile)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(chainFile));
        var root = json.RootElement;
        var blocks = root.GetProperty("blocks").EnumerateArray()
            .Select(b => new HardhatBlock(b.GetProperty("number").GetInt64(), b.GetProperty("hash").GetString()!, b.GetProperty("parentHash").GetString()!, b.GetProperty("transactionCount").GetInt32()))
            .ToList();
        var head = root.GetProperty("head").GetInt64();
        if (blocks.Count != head + 1 || blocks.Where((b, i) => b.Number != i).Any())
        {
            throw new InvalidOperationException($"{chainFile}: expected blocks 0..{head} in order.");
        }

        return new HardhatChain(root.GetProperty("genesisHash").GetString()!, head, blocks, genesisFile);
    }
}

public sealed record HardhatBlock(long Number, string Hash, string ParentHash, int TransactionCount);

/// <summary>Tests that need the hardhat chain (and its running node) join this collection.</summary>
[CollectionDefinition(Name)]
public sealed class HardhatChainCollection : ICollectionFixture<HardhatChainFixture>
{
    public const string Name = "Osaka chain mined on hardhat 3";
}

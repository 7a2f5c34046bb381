using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace EngineSkeleton.EndToEnd.Tests.Fixtures;

/// <summary>
/// Once per test run: installs the npm fixtures (if the stamp is stale), starts an ethereumjs source node and builds
/// a Prague chain on it with Lodestar (<see cref="BlocksVariable"/> blocks; 256 by default, 64 when CI=true) into a temp directory. The
/// source node keeps running for the whole collection, so tests can also use it as a peer that holds the chain.
/// </summary>
/// <remarks>
/// The chain is deterministic (fixed genesis, keys, timestamps and payload attributes): every build yields the same
/// block hashes. Set E2E_KEEP_TEMP=1 to keep the chain file and node data dirs after the run.
/// </remarks>
public sealed class PragueChainFixture(IMessageSink diagnostics) : IAsyncLifetime
{
    /// <summary>Chain length; CI can size the end-to-end run with it.</summary>
    public const string BlocksVariable = "E2E_CHAIN_BLOCKS";

    /// <summary>The size issue 4 asks for: at least 256 Prague blocks with transactions (~1 s a block to build here).</summary>
    public const int DefaultBlocks = 256;

    /// <summary>
    /// CI's size (CI=true), so the suite stays within CI's budget on 2 cores: two epochs' worth of slots, long enough
    /// for safe/finalized to trail the head by 8 and 16 blocks. <see cref="BlocksVariable"/> overrides both.
    /// </summary>
    public const int CiBlocks = 64;

    private EthereumJsNode? _source;
    private BuiltChain? _chain;
    private NodeTooling? _tooling;

    public NodeTooling Tooling => _tooling ?? throw NotReady();

    /// <summary>The ethereumjs node the chain was built on; it serves the chain on its RPC (and devp2p) port.</summary>
    public EthereumJsNode Source => _source ?? throw NotReady();

    public BuiltChain Chain => _chain ?? throw NotReady();

    /// <summary>Temp directory holding chain.json for this run.</summary>
    public string WorkDirectory { get; } = Directory.CreateTempSubdirectory("engineskeleton-e2e-chain-").FullName;

    /// <summary>Install check (or install), source node startup, and the chain build, in that order.</summary>
    public IReadOnlyList<(string Step, TimeSpan Took)> Timings { get; private set; } = [];

    public static int ConfiguredBlocks()
    {
        var text = Environment.GetEnvironmentVariable(BlocksVariable);
        if (string.IsNullOrWhiteSpace(text))
        {
            return Environment.GetEnvironmentVariable("CI") == "true" ? CiBlocks : DefaultBlocks;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var blocks) && blocks is >= 1 and <= 1024
            ? blocks
            : throw new InvalidOperationException($"{BlocksVariable} must be a block count from 1 to 1024, got '{text}'.");
    }

    public async Task InitializeAsync()
    {
        var blocks = ConfiguredBlocks();
        var timings = new List<(string, TimeSpan)>();
        var clock = Stopwatch.StartNew();
        _tooling = await NodeTooling.EnsureInstalledAsync();
        timings.Add(("npm fixtures installed", clock.Elapsed));

        clock.Restart();
        _source = await EthereumJsNode.StartAsync(_tooling, "source", _tooling.Script("genesis.json"));
        timings.Add(("ethereumjs source started", clock.Elapsed));

        clock.Restart();
        _chain = await ChainBuilder.BuildAsync(_tooling, _source, blocks, Path.Combine(WorkDirectory, "chain.json"));
        timings.Add(($"{blocks}-block chain built", clock.Elapsed));
        Timings = timings;
        var summary = _chain.Summary!;
        diagnostics.OnMessage(new DiagnosticMessage(
            $"[e2e] {string.Join(", ", timings.Select(t => $"{t.Item1} in {t.Item2.TotalSeconds:F1} s"))}; "
            + $"per block median {summary.BlockMsMedian} ms, first {summary.BlockMsFirst} ms, max {summary.BlockMsMax} ms; chain at {_chain.ChainFile}"));
    }

    public async Task DisposeAsync()
    {
        if (_source is not null)
        {
            await _source.DisposeAsync();
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

    private static InvalidOperationException NotReady() => new("The Prague chain fixture is not initialized.");
}

/// <summary>Tests that need the shared Prague chain (and its ethereumjs source node) join this collection.</summary>
[CollectionDefinition(Name)]
public sealed class PragueChainCollection : ICollectionFixture<PragueChainFixture>
{
    public const string Name = "Prague chain built on ethereumjs by Lodestar";
}

using System.Globalization;
using System.Text.Json;

namespace EngineSkeleton.EndToEnd.Tests.Fixtures;

/// <summary>
/// Runs Fixtures/node/build-chain.mjs against a running <see cref="EthereumJsNode"/>: Lodestar's Engine API client
/// builds <c>blocks</c> Prague blocks with transactions and withdrawals on it, and the chain file records each
/// block's newPayloadV4 params as Lodestar sent them.
/// </summary>
public static class ChainBuilder
{
    /// <summary>~0.5 s a block on 2 cores plus ~5 s of imports; this bound is for 64 blocks with a wide margin.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(4);

    /// <summary>Builds the chain into <paramref name="chainFile"/> (written atomically) and returns it parsed.</summary>
    public static async Task<BuiltChain> BuildAsync(
        NodeTooling tooling,
        EthereumJsNode source,
        int blocks,
        string chainFile,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tooling);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfLessThan(blocks, 1);
        var partial = chainFile + ".partial";
        var result = await RunAsync(
            tooling,
            source,
            "build-chain.mjs",
            ["--out", partial, "--blocks", blocks.ToString(CultureInfo.InvariantCulture), "--genesis", source.GenesisFile],
            timeout,
            cancellationToken);
        var summary = ParseSummary(result.StandardOutput.Last(IsDone));
        File.Move(partial, chainFile, overwrite: true);
        return BuiltChain.Load(chainFile, summary with { WallClock = result.Elapsed });
    }

    /// <summary>
    /// Runs Fixtures/node/build-branch.mjs: on a node that holds <paramref name="chain"/>, moves the head back to block
    /// <paramref name="fork"/> and builds <paramref name="blocks"/> blocks with other contents on it through Lodestar's
    /// engine client. The node ends with the side branch canonical; the returned chain holds only the branch's blocks.
    /// </summary>
    public static async Task<BuiltChain> BuildBranchAsync(
        NodeTooling tooling,
        EthereumJsNode source,
        BuiltChain chain,
        long fork,
        int blocks,
        string branchFile,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tooling);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentOutOfRangeException.ThrowIfLessThan(blocks, 1);
        await RunAsync(
            tooling,
            source,
            "build-branch.mjs",
            [
                "--chain", chain.ChainFile,
                "--fork", fork.ToString(CultureInfo.InvariantCulture),
                "--blocks", blocks.ToString(CultureInfo.InvariantCulture),
                "--out", branchFile,
            ],
            timeout,
            cancellationToken);
        return BuiltChain.Load(branchFile);
    }

    /// <summary>Runs a build script against <paramref name="source"/>'s Engine API and JSON-RPC; it must end with its "done" line.</summary>
    private static async Task<ProcessResult> RunAsync(
        NodeTooling tooling,
        EthereumJsNode source,
        string script,
        string[] arguments,
        TimeSpan? timeout,
        CancellationToken cancellationToken)
    {
        var result = await tooling.RunScriptAsync(
            script,
            script,
            [
                .. arguments,
                "--engine-url", source.EngineUrl.ToString(),
                "--rpc-url", source.RpcUrl.ToString(),
                "--jwt-secret", source.JwtSecretFile,
            ],
            timeout ?? DefaultTimeout,
            cancellationToken);
        if (result.ExitCode != 0 || !result.StandardOutput.Any(IsDone))
        {
            throw new InvalidOperationException($"{script} failed (exit {result.ExitCode}).\n{result.Diagnostics}\n{source.Process.Diagnostics()}");
        }
        return result;
    }

    private static bool IsDone(string line) => line.Contains("\"done\":true", StringComparison.Ordinal);

    private static ChainBuildSummary ParseSummary(string line)
    {
        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        return new ChainBuildSummary(
            Blocks: root.GetProperty("blocks").GetInt32(),
            BlockMsMedian: root.GetProperty("blockMsMedian").GetInt32(),
            BlockMsFirst: root.GetProperty("blockMsFirst").GetInt32(),
            BlockMsMax: root.GetProperty("blockMsMax").GetInt32(),
            ScriptMs: root.GetProperty("totalMs").GetInt32(),
            WallClock: TimeSpan.Zero);
    }
}

/// <summary>Timings build-chain.mjs reported (ms), and the wall clock of the whole script run.</summary>
public sealed record ChainBuildSummary(int Blocks, int BlockMsMedian, int BlockMsFirst, int BlockMsMax, int ScriptMs, TimeSpan WallClock);

/// <summary>One block of a chain file: what tests compare against.</summary>
public sealed record ChainBlock(long Number, string Hash, string ParentHash, long Timestamp, int TransactionCount, string RawHeader, string RawBlock);

/// <summary>A chain file written by build-chain.mjs (see Fixtures/node/README.md for its format).</summary>
public sealed record BuiltChain(string ChainFile, string GenesisFile, string GenesisHash, long ChainId, IReadOnlyList<ChainBlock> Blocks, ChainBuildSummary? Summary)
{
    public ChainBlock Head => Blocks[^1];

    /// <summary>Reads a chain file; <paramref name="summary"/> is the build's timing when this process built it.</summary>
    public static BuiltChain Load(string chainFile, ChainBuildSummary? summary = null)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(chainFile));
        var root = json.RootElement;
        var blocks = new List<ChainBlock>();
        foreach (var block in root.GetProperty("blocks").EnumerateArray())
        {
            var payload = block.GetProperty("newPayload").GetProperty("params")[0];
            blocks.Add(new ChainBlock(
                block.GetProperty("number").GetInt64(),
                block.GetProperty("hash").GetString()!,
                block.GetProperty("parentHash").GetString()!,
                block.GetProperty("timestamp").GetInt64(),
                payload.GetProperty("transactions").GetArrayLength(),
                block.GetProperty("rawHeader").GetString()!,
                block.GetProperty("rawBlock").GetString()!));
        }

        return new BuiltChain(
            Path.GetFullPath(chainFile),
            root.GetProperty("genesisFile").GetString()!,
            root.GetProperty("genesisHash").GetString()!,
            root.GetProperty("chainId").GetInt64(),
            blocks,
            summary);
    }
}

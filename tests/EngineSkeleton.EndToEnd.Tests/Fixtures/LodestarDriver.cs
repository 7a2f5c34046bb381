using System.Globalization;
using System.Text.Json;

namespace EngineSkeleton.EndToEnd.Tests.Fixtures;

/// <summary>
/// Runs Fixtures/node/drive.mjs: Lodestar 1.44's <c>ExecutionEngineHttp</c>, with its own JWT, replays a chain file
/// into an Engine API endpoint — exchangeCapabilities, getClientVersionV1, then newPayloadV4 and
/// forkchoiceUpdatedV3 per block — and reports each answer. Targets ethereumjs today and EngineSkeleton's own
/// server (<c>http://127.0.0.1:PORT</c> with its jwtsecret) alike.
/// </summary>
public static class LodestarDriver
{
    public static async Task<DriveResult> DriveAsync(NodeTooling tooling, DriveOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tooling);
        ArgumentNullException.ThrowIfNull(options);
        List<string> arguments =
        [
            "--engine-url", options.EngineUrl.ToString(),
            "--jwt-secret", options.JwtSecretFile,
            "--chain", options.ChainFile,
            "--fcu", options.ForkchoiceUpdates switch
            {
                ForkchoiceUpdates.EachBlock => "each",
                ForkchoiceUpdates.LastBlock => "last",
                ForkchoiceUpdates.None => "none",
                _ => throw new ArgumentOutOfRangeException(nameof(options), options.ForkchoiceUpdates, "unknown mode"),
            },
            "--timeout-ms", ((long)options.RequestTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
        ];
        if (options.From is { } from)
        {
            arguments.AddRange(["--from", from.ToString(CultureInfo.InvariantCulture)]);
        }

        if (options.To is { } to)
        {
            arguments.AddRange(["--to", to.ToString(CultureInfo.InvariantCulture)]);
        }

        foreach (var alteration in options.Alterations)
        {
            arguments.AddRange(["--alter", alteration.ToArgument()]);
        }

        var result = await tooling.RunScriptAsync("drive.mjs", "drive.mjs", arguments, options.Timeout, cancellationToken);
        var calls = result.StandardOutput.Where(l => l.StartsWith("{\"call\"", StringComparison.Ordinal)).Select(EngineCall.Parse).ToList();
        if (result.ExitCode != 0 || !result.StandardOutput.Any(l => l.StartsWith("{\"done\":true", StringComparison.Ordinal)))
        {
            throw new InvalidOperationException($"drive.mjs failed (exit {result.ExitCode}).\n{result.Diagnostics}");
        }

        return new DriveResult(calls, result.Elapsed, result.Diagnostics);
    }
}

/// <summary>When drive.mjs sends forkchoiceUpdated: after each block's newPayload, only after the last, or never.</summary>
public enum ForkchoiceUpdates
{
    EachBlock,
    LastBlock,
    None,
}

/// <summary>What drive.mjs does to one block's transaction list before sending it (see drive.mjs --alter).</summary>
public enum TransactionAlteration
{
    Drop,
    Duplicate,
    Corrupt,
}

/// <summary>
/// Alter transaction <paramref name="Index"/> of block <paramref name="Block"/>. With <paramref name="Rehash"/> the
/// block hash is recomputed over the altered list, so only execution can find it invalid; without, the stale hash
/// no longer matches the payload.
/// </summary>
public sealed record BlockAlteration(long Block, TransactionAlteration Operation, int Index, bool Rehash)
{
    internal string ToArgument() =>
        string.Create(CultureInfo.InvariantCulture, $"{Block}:{Operation switch
        {
            TransactionAlteration.Drop => "drop-tx",
            TransactionAlteration.Duplicate => "dup-tx",
            TransactionAlteration.Corrupt => "corrupt-tx",
            _ => throw new InvalidOperationException($"unknown alteration {Operation}"),
        }}:{Index}{(Rehash ? ":rehash" : string.Empty)}");
}

/// <summary>Inputs of one drive.mjs run.</summary>
/// <param name="EngineUrl">The Engine API endpoint (JWT-authenticated).</param>
/// <param name="JwtSecretFile">The endpoint's 32-byte hex secret.</param>
/// <param name="ChainFile">A chain file from build-chain.mjs.</param>
public sealed record DriveOptions(Uri EngineUrl, string JwtSecretFile, string ChainFile)
{
    public long? From { get; init; }

    public long? To { get; init; }

    public ForkchoiceUpdates ForkchoiceUpdates { get; init; } = ForkchoiceUpdates.EachBlock;

    public IReadOnlyList<BlockAlteration> Alterations { get; init; } = [];

    /// <summary>Per Engine API request. Lodestar's own default is 12 s; ethereumjs answers a forkchoiceUpdated to an unknown head after ~8 s.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The whole run: ~5 s of imports plus ~0.3 s a block against ethereumjs.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(3);
}

/// <summary>Every Engine API call drive.mjs made, in order, and how long the run took.</summary>
public sealed record DriveResult(IReadOnlyList<EngineCall> Calls, TimeSpan Elapsed, string Diagnostics)
{
    public IEnumerable<EngineCall> NewPayloads => Calls.Where(c => c.Call == "newPayload");

    public IEnumerable<EngineCall> ForkchoiceUpdates => Calls.Where(c => c.Call == "forkchoiceUpdated");

    public EngineCall? Call(string name) => Calls.FirstOrDefault(c => c.Call == name);
}

/// <summary>
/// One line of drive.mjs output. <see cref="Status"/> is the payload status as Lodestar understood it (VALID,
/// INVALID, SYNCING, ACCEPTED, INVALID_BLOCK_HASH, or ELERROR/UNAVAILABLE for transport and JSON-RPC errors);
/// <see cref="Error"/> and <see cref="Code"/> are the JSON-RPC error, if any; <see cref="Line"/> is the raw JSON.
/// </summary>
public sealed record EngineCall(
    string Call,
    string? Method,
    long? Block,
    string? Hash,
    string? Status,
    string? LatestValidHash,
    string? ValidationError,
    string? Error,
    int? Code,
    bool? SameParams,
    string? Altered,
    string Line)
{
    public override string ToString() => Line;

    internal static EngineCall Parse(string line)
    {
        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        return new EngineCall(
            root.GetProperty("call").GetString()!,
            String(root, "method"),
            root.TryGetProperty("block", out var block) ? block.GetInt64() : null,
            String(root, "hash") ?? String(root, "head"),
            String(root, "status"),
            String(root, "latestValidHash"),
            String(root, "validationError"),
            String(root, "error"),
            root.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.Number ? code.GetInt32() : null,
            root.TryGetProperty("sameParams", out var same) ? same.GetBoolean() : null,
            String(root, "altered"),
            line);
    }

    private static string? String(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}

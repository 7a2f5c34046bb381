using System.Text.Json;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Sync.Peers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static EngineSkeleton.Network.Rpc.RpcAnswers;

namespace EngineSkeleton.Network.Rpc;

/// <summary>
/// A sync peer over an existing node's public JSON-RPC (docs/peers.md, <c>--sync.rpc URL</c>). Headers by number come
/// from <c>debug_getRawHeader</c> where the node serves it, else from <c>eth_getBlockByNumber</c> rebuilt into
/// headers; headers by hash from <c>eth_getBlockByHash</c> (ethereumjs serves debug_getRaw* by number only); bodies
/// from <c>debug_getRawBlock</c> at the number <c>eth_getBlockByHash</c> names, else rebuilt from full JSON blocks
/// (hardhat serves no debug_ methods). Which debug methods the node serves is probed once, on the first request
/// that needs to know, against its genesis.
/// <para>
/// Everything the node says is checked before it is believed: every header must have the number asked for and,
/// rebuilt from JSON, hash to the hash the node claims, as must every transaction rebuilt from JSON; a header by hash
/// and a block for a body must hash to the hash asked for; an answer by number must be hash-linked. Whether a body
/// matches its header's roots is left to the caller, which checks every body so. A node that breaks any of this, answers garbage or fails in
/// transit gets a <see cref="PeerException"/> saying why, so the peer set drops it; no other exception escapes but
/// <see cref="OperationCanceledException"/> when the caller cancels. A number or hash the node does not have (JSON
/// null or a JSON-RPC error for that call) ends a reverse answer there, as an eth/68 peer's shorter answer would.
/// </para>
/// <para>
/// The caller owns the <see cref="HttpClient"/>; its own <see cref="HttpClient.Timeout"/> should be infinite, as
/// <see cref="RpcSyncPeerOptions.RequestTimeout"/> bounds every attempt. Calls may run concurrently.
/// </para>
/// </summary>
public sealed partial class RpcSyncPeer : ISyncPeer
{
    private readonly JsonRpcClient _client;
    private readonly RpcBodies _bodies;
    private readonly ILogger _logger;
    private RpcNodeCapabilities? _capabilities;
    private string? _refusal;

    /// <summary>How a refusal for serving another chain begins (skeleton_status, the diagnostics and the metrics match it).</summary>
    public const string OtherChain = "serves another chain";

    private const string ChainIdMethod = "eth_chainId";

    /// <param name="url">The node's JSON-RPC URL.</param>
    /// <param name="http">Sends the requests; the caller owns it.</param>
    /// <param name="options">Batching, timeouts, retries; <see cref="RpcSyncPeerOptions.Default"/> if null. Validated here.</param>
    /// <param name="time">Clock of the timeouts, retry delays and circuit breaker; the system clock if null.</param>
    /// <param name="logger">Where capability probes and failures are logged.</param>
    public RpcSyncPeer(Uri url, HttpClient http, RpcSyncPeerOptions? options = null, TimeProvider? time = null, ILogger<RpcSyncPeer>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(http);
        if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"an RPC peer URL is absolute http(s), got '{url}'", nameof(url));
        }
        Options = options ?? RpcSyncPeerOptions.Default;
        Options.Validate();
        // Credentials and query strings (API keys) stay out of the id, which logs and status show.
        Id = url.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);
        _client = new JsonRpcClient(url, http, Options, time ?? TimeProvider.System);
        _bodies = new RpcBodies(_client);
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    /// <summary>The URL without credentials or query.</summary>
    public string Id { get; }

    public RpcSyncPeerOptions Options { get; }

    public int MaxRequests => Options.MaxRequests;

    /// <summary>What the node was found to serve; null until the first request has probed it.</summary>
    internal RpcNodeCapabilities? Capabilities => Volatile.Read(ref _capabilities);

    public Task<IReadOnlyList<BlockHeader>> GetHeadersReverseAsync(ulong origin, int count, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return GuardAsync(() => HeadersReverseAsync(origin, count, cancellationToken), "headers", cancellationToken);
    }

    public Task<BlockHeader?> GetHeaderByHashAsync(Hash256 hash, CancellationToken cancellationToken) =>
        GuardAsync(() => HeaderByHashAsync(hash, cancellationToken), "header by hash", cancellationToken);

    public Task<IReadOnlyList<BlockBody?>> GetBodiesAsync(IReadOnlyList<Hash256> hashes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        return GuardAsync(() => BodiesAsync(hashes, cancellationToken), "bodies", cancellationToken);
    }

    public override string ToString() => $"rpc peer {Id}";

    /// <summary>
    /// Contacts the node once, as its first request would, so a node on another chain is refused at startup rather than
    /// when the first head arrives. Throws <see cref="PeerException"/> with the reason (a refusal begins with
    /// <see cref="OtherChain"/>).
    /// </summary>
    public Task CheckChainAsync(CancellationToken cancellationToken) =>
        GuardAsync(async () => await CapabilitiesAsync(cancellationToken), "first contact", cancellationToken);

    private async Task<IReadOnlyList<BlockHeader>> HeadersReverseAsync(ulong origin, int count, CancellationToken cancellationToken)
    {
        // A reverse request stops at the genesis (origin + 1 headers at most).
        var total = origin >= (ulong)count ? count : (int)(origin + 1);
        // The skeleton asks for at most 512; a larger count grows the list as answers come, not up front.
        var headers = new List<BlockHeader>(Math.Min(total, 1_024));
        if (total == 0)
        {
            return headers;
        }
        var raw = (await CapabilitiesAsync(cancellationToken)).RawHeaders;
        // Every batch of the request goes out at once, each on its own connection, as a client pulling at the speed
        // of the wire does: sent one after the other, a 512-header request waited for four round trips in a row
        // (docs/benchmarks.md, Sync from a JSON-RPC peer). They are read in order; a missing header still ends the
        // answer there, and what the node said past it is not read.
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var batches = new List<(JsonRpcCall[] Calls, Task<JsonRpcBatch> Answer)>((total + Options.BatchSize - 1) / Options.BatchSize);
        for (var asked = 0; asked < total; asked += Options.BatchSize)
        {
            var top = origin - (ulong)asked;
            var calls = new JsonRpcCall[Math.Min(Options.BatchSize, total - asked)];
            for (var i = 0; i < calls.Length; i++)
            {
                var number = Quantity(top - (ulong)i);
                calls[i] = raw ? new JsonRpcCall(RawHeaderMethod, number) : new JsonRpcCall(BlockByNumberMethod, number, false);
            }
            batches.Add((calls, _client.SendAsync(calls, abandon.Token)));
        }
        try
        {
            var decoded = new List<BlockHeader>(Options.BatchSize);
            foreach (var (calls, answer) in batches)
            {
                var batch = await answer;
                var top = origin - (ulong)headers.Count;
                decoded.Clear();
                var missing = false;
                for (var i = 0; i < calls.Length && !missing; i++)
                {
                    var number = top - (ulong)i;
                    missing = IsMissing(batch[i], calls[i]);
                    if (!missing)
                    {
                        var header = raw ? RawHeader(batch[i], number) : JsonHeader(batch[i], $"block #{number}");
                        if (header.Number != number)
                        {
                            throw new PeerException($"asked for header #{number}, got #{header.Number}");
                        }
                        decoded.Add(header);
                    }
                }
                // The batch's hashes four at a time (Keccak256.HashAll) before the link check reads them.
                BlockHeader.HashAll(decoded);
                foreach (var header in decoded)
                {
                    if (headers.Count > 0 && headers[^1].ParentHash != header.Hash)
                    {
                        throw new PeerException(
                            $"header #{header.Number + 1} does not link to #{header.Number}: its parent is {headers[^1].ParentHash}, #{header.Number} is {header.Hash}");
                    }
                    headers.Add(header);
                }
                if (missing)
                {
                    return headers;
                }
            }
            return headers;
        }
        finally
        {
            await abandon.CancelAsync(); // batches past a missing header or a failure are not waited for
            await DisposeAllAsync(batches.Select(b => b.Answer));
        }
    }

    private async Task<BlockHeader?> HeaderByHashAsync(Hash256 hash, CancellationToken cancellationToken)
    {
        JsonRpcCall[] calls = [new(BlockByHashMethod, hash.ToString(), false)];
        using var batch = await _client.SendAsync(calls, cancellationToken);
        if (IsMissing(batch[0], calls[0]))
        {
            return null;
        }
        var header = JsonHeader(batch[0], $"block {hash}");
        if (header.Hash != hash)
        {
            throw new PeerException($"asked for header {hash}, got #{header.Number} {header.Hash}");
        }
        return header;
    }

    private async Task<IReadOnlyList<BlockBody?>> BodiesAsync(IReadOnlyList<Hash256> hashes, CancellationToken cancellationToken)
    {
        var bodies = new BlockBody?[hashes.Count];
        if (hashes.Count == 0)
        {
            return bodies;
        }
        var raw = (await CapabilitiesAsync(cancellationToken)).RawBlocks;
        for (var start = 0; start < hashes.Count; start += Options.BatchSize)
        {
            var size = Math.Min(Options.BatchSize, hashes.Count - start);
            if (raw)
            {
                await _bodies.RawBatchAsync(hashes, start, size, bodies, cancellationToken);
            }
            else
            {
                await _bodies.JsonBatchAsync(hashes, start, size, bodies, cancellationToken);
            }
        }
        return bodies;
    }

    /// <summary>
    /// Probes, once, which chain the node serves and which debug methods: its block 0 must be our genesis (when
    /// <see cref="RpcSyncPeerOptions.ExpectedGenesis"/> is set) and its eth_chainId our chain id (when
    /// <see cref="RpcSyncPeerOptions.ExpectedChainId"/> is set and the node serves it), else the node is refused for
    /// good, both values named; the raw genesis header and block must decode and hash to the genesis hash
    /// eth_getBlockByNumber gives. A method the node lacks (-32601), refuses a number for (-32602, as a by-hash-only
    /// node would) or answers wrongly is not used; JSON blocks serve instead. Racing first requests may probe twice;
    /// the answers agree.
    /// </summary>
    private async Task<RpcNodeCapabilities> CapabilitiesAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _refusal) is { } refusal)
        {
            throw new PeerException(refusal);
        }
        if (Capabilities is { } known)
        {
            return known;
        }
        List<JsonRpcCall> calls =
        [
            new(BlockByNumberMethod, "0x0", false),
            new(RawHeaderMethod, "0x0"),
            new(RawBlockMethod, "0x0"),
        ];
        if (Options.ExpectedChainId is not null)
        {
            calls.Add(new(ChainIdMethod, null));
        }
        using var batch = await _client.SendAsync([.. calls], cancellationToken);
        var genesis = GenesisOf(batch[0]);
        if (Options.ExpectedGenesis is { } ours && genesis != ours)
        {
            Refuse($"{OtherChain}: its genesis is {genesis}, ours is {ours}");
        }
        if (Options.ExpectedChainId is { } ourId && ChainIdOf(batch[3]) is { } theirId && theirId != ourId)
        {
            Refuse($"{OtherChain}: its chain id is {theirId}, ours is {ourId}");
        }
        var rawHeaders = Probe(batch[1], calls[1], genesis, static rlp => BlockHeader.TryDecode(rlp, out var h, out _) ? h.Hash : null);
        var rawBlocks = Probe(batch[2], calls[2], genesis, static rlp => Block.TryDecode(rlp, out var b, out _) ? b.Hash : null);
        var capabilities = new RpcNodeCapabilities(rawHeaders, rawBlocks);
        Volatile.Write(ref _capabilities, capabilities);
        Log.Capabilities(_logger, Id, rawHeaders, rawBlocks, genesis);
        return capabilities;
    }

    /// <summary>
    /// The hash of the node's block 0, or why it gave none, in an operator's words: a node that answers null for
    /// block 0 has pruned or never had it, which is not the same as sending a malformed block.
    /// </summary>
    private static Hash256 GenesisOf(JsonRpcAnswer answer)
    {
        if (answer.Error is { } error)
        {
            throw new PeerException($"does not serve block 0: {BlockByNumberMethod}(0x0) answered error {error}");
        }
        if (answer.IsNull)
        {
            throw new PeerException($"does not serve block 0 ({BlockByNumberMethod}(0x0) answered null): its history is pruned, or it is still starting");
        }
        if (!RpcBlockJson.TryReadNumberAndHash(answer.Result, out var number, out var genesis, out var why))
        {
            throw new PeerException($"answered {BlockByNumberMethod}(0x0) with a block we cannot read: {why}");
        }
        if (number != 0)
        {
            throw new PeerException($"answered {BlockByNumberMethod}(0x0) with block #{number}");
        }
        return genesis;
    }

    /// <summary>The chain id the node names, or null if it does not serve eth_chainId or answers something unreadable.</summary>
    private static ulong? ChainIdOf(JsonRpcAnswer answer) =>
        answer.Error is null && answer.Result.ValueKind == JsonValueKind.String
        && answer.Result.GetString() is { Length: > 2 } hex && hex.StartsWith("0x", StringComparison.Ordinal)
        && ulong.TryParse(hex.AsSpan(2), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out var id)
            ? id
            : null;

    /// <summary>Refuses the node for good: every later request fails with the same reason, without asking it.</summary>
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void Refuse(string reason)
    {
        Volatile.Write(ref _refusal, reason);
        Log.OtherChain(_logger, Id, reason);
        throw new PeerException(reason);
    }

    private bool Probe(JsonRpcAnswer answer, JsonRpcCall call, Hash256 genesis, Func<byte[], Hash256?> hashOf)
    {
        string why;
        if (answer.Error is { } error)
        {
            why = error.ToString();
        }
        else if (answer.Result.ValueKind != JsonValueKind.String || !Hex.TryDecode(answer.Result.GetString(), out var rlp))
        {
            why = "not hex bytes";
        }
        else if (hashOf(rlp) is not { } hash)
        {
            why = "does not decode";
        }
        else if (hash != genesis)
        {
            why = $"hashes to {hash}, not the genesis {genesis}";
        }
        else
        {
            return true;
        }
        Log.NotServed(_logger, Id, call.ToString(), why);
        return false;
    }

    private async Task<T> GuardAsync<T>(Func<Task<T>> request, string what, CancellationToken cancellationToken)
    {
        try
        {
            return await request();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (PeerException e)
        {
            Log.RequestFailed(_logger, Id, what, e.Message);
            throw;
        }
        catch (Exception e)
        {
            var reason = RpcFailures.Describe(e, Options);
            Log.RequestFailed(_logger, Id, what, reason);
            throw new PeerException(reason, e);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(400, LogLevel.Information, "RPC peer probed id={Peer} rawHeaders={RawHeaders} rawBlocks={RawBlocks} genesis={Genesis}")]
        public static partial void Capabilities(ILogger logger, string peer, bool rawHeaders, bool rawBlocks, Hash256 genesis);

        [LoggerMessage(401, LogLevel.Debug, "RPC peer does not serve a raw method id={Peer} call={Call} answer={Answer}")]
        public static partial void NotServed(ILogger logger, string peer, string call, string answer);

        [LoggerMessage(403, LogLevel.Warning, "RPC peer refused id={Peer} reason={Reason}")]
        public static partial void OtherChain(ILogger logger, string peer, string reason);

        [LoggerMessage(402, LogLevel.Debug, "RPC peer request failed id={Peer} request={Request} reason={Reason}")]
        public static partial void RequestFailed(ILogger logger, string peer, string request, string reason);
    }
}

/// <summary>What an RPC peer's node was found to serve besides eth_getBlockBy*.</summary>
/// <param name="RawHeaders"><c>debug_getRawHeader</c> by number: headers come as RLP, else rebuilt from JSON.</param>
/// <param name="RawBlocks"><c>debug_getRawBlock</c> by number: bodies come as RLP, else rebuilt from full JSON blocks.</param>
internal sealed record RpcNodeCapabilities(bool RawHeaders, bool RawBlocks);

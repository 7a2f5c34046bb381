using System.Collections.Concurrent;
using EngineSkeleton.Network.DevP2p;
using EngineSkeleton.Network.Rpc;
using EngineSkeleton.Server.Auth;
using EngineSkeleton.Sync.Beacon;

namespace EngineSkeleton.Server.Observability;

/// <summary>
/// What is wrong, each in one line, read from the sync's status, the devp2p transport and the Engine API's traffic
/// when asked (skeleton_status, /health, the status page), and logged when a line appears, again while it holds, and
/// when it clears (docs/operations.md, Diagnostics). Holds no sync state of its own: only when each line was first seen.
/// </summary>
internal sealed partial class NodeDiagnostics : IAsyncDisposable
{
    /// <summary>
    /// How long the Engine API may stay silent before "no beacon client seen": geth's beaconUpdateConsensusTimeout
    /// (2 minutes). A beacon node calls forkchoiceUpdated every 12 s slot, exchangeCapabilities at startup.
    /// </summary>
    public static readonly TimeSpan BeaconSilence = TimeSpan.FromMinutes(2);

    /// <summary>How often the lines are re-evaluated for the log: a few times a slot, cheap (status reads only).</summary>
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(5);

    /// <summary>A line that holds is logged again this often, as geth repeats "no beacon client seen".</summary>
    private static readonly TimeSpan RepeatInterval = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Lines the sync logs itself when it finds them, once, at Error with both hashes (SkeletonSync's event 313): not
    /// logged again here, so an operator reads the one line; still listed by <see cref="Current"/>.
    /// </summary>
    private static readonly HashSet<string> SaidBySync = new(StringComparer.Ordinal) { Diagnostic.HeadOnAnotherNetwork };

    private readonly IBeaconSync _sync;
    private readonly DevP2pNetwork _devp2p;
    private readonly EngineApiMonitor _engine;
    private readonly OperatorFacts _facts;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _firstSeen = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _unreachable = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _logged = new(StringComparer.Ordinal);
    private readonly Lock _logGate = new();
    private ITimer? _timer;

    public NodeDiagnostics(IBeaconSync sync, DevP2pNetwork devp2p, EngineApiMonitor engine, OperatorFacts facts, TimeProvider time, ILogger<NodeDiagnostics> logger)
    {
        _sync = sync;
        _devp2p = devp2p;
        _engine = engine;
        _facts = facts;
        _time = time;
        _logger = logger;
    }

    /// <summary>Starts logging the lines as they appear; the first check runs now, so a missing source is said at startup.</summary>
    public void Start() => _timer ??= _time.CreateTimer(_ => LogChanges(), null, TimeSpan.Zero, CheckInterval);

    /// <summary>A --sync.rpc node did not answer its first contact at startup, for this reason.</summary>
    public void FirstContactFailed(string peer, string reason) => _unreachable[peer] = reason;

    /// <summary>The lines that hold now, most pressing first.</summary>
    public List<Diagnostic> Current()
    {
        var now = _time.GetUtcNow();
        var status = _sync.Status();
        var lines = new List<Diagnostic>();
        if (status.AnotherChain is { } anotherChain)
        {
            lines.Add(Seen(Diagnostic.HeadOnAnotherNetwork, $"Head on another network: {anotherChain} Start the beacon node on this node's network, or this node on the beacon node's (--network or --genesis, with a datadir of that network)", null, now));
        }
        if (NoSource(status) is { } noSource)
        {
            lines.Add(Seen(Diagnostic.NoSyncSource, noSource, null, now));
        }
        if (NoBeaconClient(now) is (string message, DateTimeOffset since))
        {
            lines.Add(new Diagnostic(Diagnostic.NoBeaconClient, message, null, since));
        }
        foreach (var peer in status.Peers ?? [])
        {
            if (peer.DropReason is not { } reason)
            {
                // Unreachable at startup and silent since: said until it serves something (or is dropped, below).
                if (peer.ServedHeaders == 0 && peer.ServedBodies == 0 && _unreachable.TryGetValue(peer.Id, out var failure))
                {
                    lines.Add(Seen(Diagnostic.PeerUnreachable, $"Peer {peer.Id} did not answer its first contact: {failure}; the sync asks it again when a head arrives. Is the node running, and is the URL right?", peer.Id, now));
                }
                continue;
            }
            lines.Add(reason.StartsWith(RpcSyncPeer.OtherChain, StringComparison.Ordinal)
                ? Seen(Diagnostic.PeerOnAnotherChain, $"Peer {peer.Id} refused: it {reason}; remove it from --sync.rpc or start this node with its chain (--network, --genesis)", peer.Id, now)
                : Seen(Diagnostic.PeerDropped, $"Peer {peer.Id} dropped: {reason}", peer.Id, now));
        }
        // Lines that no longer hold start afresh if they come back.
        foreach (var key in _firstSeen.Keys)
        {
            if (!lines.Exists(l => Key(l) == key))
            {
                _firstSeen.TryRemove(key, out _);
            }
        }
        return lines;
    }

    /// <summary>
    /// No source at all: none configured and no peer joined; or a head announced and waiting with no live peer
    /// (the sync's WaitingForPeers), whatever was configured.
    /// </summary>
    private string? NoSource(BeaconSyncStatus status)
    {
        var live = (status.Peers ?? []).Count(p => !p.Dropped);
        if (status.State == SyncState.WaitingForPeers)
        {
            var head = status.AnnouncedNumber is { } n ? $"#{n} {status.AnnouncedHead}" : $"{status.AnnouncedHead}";
            var dropped = (status.Peers ?? []).Count(p => p.Dropped);
            var why = _facts.HasNoConfiguredSource
                ? "no --sync.rpc and no --bootnodes are configured"
                : dropped > 0 ? $"all {dropped} peers were dropped (see their reasons)" : "no configured peer has answered yet";
            return $"No sync source: the head {head} waits and no peer is connected; {why}. Give --sync.rpc URL (an existing node's RPC) or --bootnodes ENODE";
        }
        if (_facts.HasNoConfiguredSource && live == 0 && _devp2p.Peers.Count == 0)
        {
            return "No sync source: no --sync.rpc and no --bootnodes, and no devp2p peer has dialed in; the node cannot download a head the beacon node announces. Give --sync.rpc URL (an existing node's RPC) or --bootnodes ENODE";
        }
        return null;
    }

    /// <summary>
    /// geth's "no beacon client seen", with the reason: no request passed JWT for <see cref="BeaconSilence"/> (counted
    /// from startup until the first), and if requests came and failed JWT, why, in what to do.
    /// </summary>
    private (string Message, DateTimeOffset Since)? NoBeaconClient(DateTimeOffset now)
    {
        var since = _engine.LastContact ?? _engine.Started;
        if (now - since < BeaconSilence)
        {
            return null;
        }
        var silence = FormatSpan(now - since);
        var what = _engine.LastContact is null ? $"no Engine API call has passed JWT since startup ({silence} ago)" : $"no Engine API call has passed JWT for {silence}";
        if (_engine.FailureSinceContact is not { } failure)
        {
            return ($"No beacon client seen: {what}; start the consensus client with the execution endpoint {_facts.EngineUrl} and the JWT secret {_facts.SecretPath}", since);
        }
        var count = _engine.FailuresSinceContact;
        var advice = failure.Failure switch
        {
            JwtFailure.Stale => "its tokens' iat is more than 60 s behind our clock: the clocks of the two machines differ; sync them (NTP)",
            JwtFailure.Future => "its tokens' iat is more than 60 s ahead of our clock: the clocks of the two machines differ; sync them (NTP)",
            JwtFailure.BadSignature => $"their signature does not verify with our secret: the consensus client uses another JWT secret; give both the file {_facts.SecretPath}",
            JwtFailure.Missing => $"they carry no JWT: give the consensus client the JWT secret {_facts.SecretPath}",
            JwtFailure.Expired => "their tokens are expired (exp): check the consensus client's clock and JWT settings",
            _ => $"their tokens are malformed ({failure.Message})",
        };
        return ($"No beacon client seen: {what}; {count} calls arrived and failed JWT ({failure.Message}), the last at {failure.At:yyyy-MM-dd HH:mm:ss}Z: {advice}", since);
    }

    private Diagnostic Seen(string code, string message, string? subject, DateTimeOffset now)
    {
        var since = _firstSeen.GetOrAdd(code + "\n" + subject, now);
        return new Diagnostic(code, message, subject, since);
    }

    private static string Key(Diagnostic d) => d.Code + "\n" + d.Subject;

    /// <summary>Logs lines as they appear, again every <see cref="RepeatInterval"/> while they hold, and once when they clear.</summary>
    private void LogChanges()
    {
        try
        {
            var now = _time.GetUtcNow();
            var lines = Current().ToList();
            lock (_logGate)
            {
                foreach (var line in lines)
                {
                    if (SaidBySync.Contains(line.Code))
                    {
                        continue; // logged once, at Error, by the component that found it
                    }
                    var key = Key(line) + "\n" + line.Message;
                    if (!_logged.TryGetValue(key, out var at) || now - at >= RepeatInterval)
                    {
                        _logged[key] = now;
                        Log.Diagnostic(_logger, line.Code, line.Message);
                    }
                }
                foreach (var key in _logged.Keys.ToArray())
                {
                    if (!lines.Exists(l => Key(l) + "\n" + l.Message == key))
                    {
                        _logged.Remove(key);
                        Log.Cleared(_logger, key[..key.IndexOf('\n', StringComparison.Ordinal)]);
                    }
                }
            }
        }
        catch (Exception e) when (e is ObjectDisposedException or InvalidOperationException)
        {
            // The node is stopping: the stores or the sync went away under the check.
        }
    }

    internal static string FormatSpan(TimeSpan span) =>
        span.TotalHours >= 1 ? $"{(int)span.TotalHours}h{span.Minutes}m" : span.TotalMinutes >= 1 ? $"{(int)span.TotalMinutes}m{span.Seconds}s" : $"{span.TotalSeconds:0}s";

    public async ValueTask DisposeAsync()
    {
        if (_timer is not null)
        {
            await _timer.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(700, LogLevel.Warning, "{Message} code={Code}")]
        public static partial void Diagnostic(ILogger logger, string code, string message);

        [LoggerMessage(701, LogLevel.Information, "Cleared diagnostic code={Code}")]
        public static partial void Cleared(ILogger logger, string code);
    }
}

using EngineSkeleton.Server.Auth;
using EngineSkeleton.Server.Rpc;

namespace EngineSkeleton.Server.Observability;

/// <summary>
/// Watches the Engine API's traffic for the metrics (calls by method and outcome, their time, JWT failures by reason)
/// and for the "no beacon client seen" diagnostic: when a request last passed JWT, and the last one that failed it.
/// Lock-free: the endpoint calls it on every request.
/// </summary>
internal sealed class EngineApiMonitor(TimeProvider time, NodeMetrics metrics) : IRpcObserver
{
    /// <summary>The endpoint name the host gives the Engine API (the JWT one).</summary>
    public const string EngineEndpoint = "engine";

    private readonly DateTimeOffset _started = time.GetUtcNow();
    private long _lastContactTicks;
    private JwtFailureSeen? _lastFailure;
    private long _failuresSinceContact;

    public void Called(string endpoint, string method, int? errorCode, TimeSpan elapsed)
    {
        metrics.RpcCalls.WithLabels(endpoint, method, OutcomeLabel(errorCode)).Inc();
        metrics.RpcCallDuration.WithLabels(endpoint, method).Observe(elapsed.TotalSeconds);
    }

    public void Authenticated(string endpoint, JwtValidationResult result)
    {
        var now = time.GetUtcNow();
        if (result.IsValid)
        {
            Interlocked.Exchange(ref _lastContactTicks, now.UtcTicks);
            Interlocked.Exchange(ref _failuresSinceContact, 0);
            return;
        }
        metrics.JwtFailures.WithLabels(FailureLabel(result.Failure)).Inc();
        Interlocked.Increment(ref _failuresSinceContact);
        Volatile.Write(ref _lastFailure, new JwtFailureSeen(result.Failure, result.Message, now));
    }

    /// <summary>When the node started watching; silence is counted from here until the first call.</summary>
    public DateTimeOffset Started => _started;

    /// <summary>When a request last passed JWT; null if none has.</summary>
    public DateTimeOffset? LastContact
    {
        get
        {
            var ticks = Interlocked.Read(ref _lastContactTicks);
            return ticks > 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;
        }
    }

    /// <summary>The last request that failed JWT, if it came after the last one that passed.</summary>
    public JwtFailureSeen? FailureSinceContact =>
        Volatile.Read(ref _lastFailure) is { } failure && (LastContact is not { } contact || failure.At > contact) ? failure : null;

    /// <summary>Requests refused since the last one that passed.</summary>
    public long FailuresSinceContact => Interlocked.Read(ref _failuresSinceContact);

    /// <summary>The metrics' outcome label: a closed set, so a hostile caller cannot grow the series.</summary>
    internal static string OutcomeLabel(int? errorCode) => errorCode switch
    {
        null => "ok",
        RpcErrorCodes.ParseError => "parse_error",
        RpcErrorCodes.InvalidRequest => "invalid_request",
        RpcErrorCodes.MethodNotFound => "method_not_found",
        RpcErrorCodes.InvalidParams => "invalid_params",
        RpcErrorCodes.InternalError => "internal_error",
        RpcErrorCodes.ServerError => "server_error",
        RpcErrorCodes.UnknownPayload => "unknown_payload",
        RpcErrorCodes.InvalidForkchoiceState => "invalid_forkchoice_state",
        RpcErrorCodes.InvalidPayloadAttributes => "invalid_payload_attributes",
        RpcErrorCodes.TooLargeRequest => "too_large_request",
        RpcErrorCodes.UnsupportedFork => "unsupported_fork",
        RpcErrorCodes.TooDeepReorg => "too_deep_reorg",
        _ => "other_error",
    };

    internal static string FailureLabel(JwtFailure failure) => failure switch
    {
        JwtFailure.Missing => "missing",
        JwtFailure.Malformed => "malformed",
        JwtFailure.BadSignature => "bad_signature",
        JwtFailure.Stale => "stale",
        JwtFailure.Future => "future",
        JwtFailure.Expired => "expired",
        _ => "other",
    };
}

/// <summary>A request refused by the JWT check: why, in the validator's words, and when.</summary>
internal sealed record JwtFailureSeen(JwtFailure Failure, string Message, DateTimeOffset At);

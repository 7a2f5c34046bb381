namespace EngineSkeleton.Server.Rpc;

/// <summary>
/// One JSON-RPC endpoint: a set of targets served on one Kestrel port (docs/rpc.md: 8551 with JWT, 8545 without).
/// Validated once by <see cref="Validate"/> when the endpoint is built; a bad value stops startup.
/// </summary>
/// <param name="Name">For logs: <c>engine</c>, <c>http</c>.</param>
/// <param name="RequireJwt">Whether every request (and WebSocket upgrade) must carry a valid Engine API JWT.</param>
/// <param name="MaxRequestBodyBytes">Larger bodies get HTTP 413. Default 128 MiB: geth's <c>engineAPIBodyLimit</c>
/// (its public HTTP default is 5 MiB), big enough for a <c>newPayload</c> with a full block of blobs' commitments.</param>
internal sealed record RpcEndpointOptions(string Name, bool RequireJwt, long MaxRequestBodyBytes = RpcEndpointOptions.DefaultMaxRequestBodyBytes)
{
    /// <summary>geth <c>node/defaults.go</c> <c>engineAPIBodyLimit</c>.</summary>
    public const long DefaultMaxRequestBodyBytes = 128L * 1024 * 1024;

    /// <summary>geth <c>node/defaults.go</c> <c>BatchRequestLimit</c>.</summary>
    public const int DefaultMaxBatchItems = 1000;

    /// <summary>The request path served; exact match, so other routes on the same port (<c>/health</c>) stay free.</summary>
    public string Path { get; init; } = "/";

    /// <summary>
    /// The Kestrel local port this endpoint answers on (<see cref="HttpContext.Connection"/> <c>LocalPort</c>); 0 answers
    /// on every port. Filtering on the socket, not the Host header, keeps 8545 clients off the engine targets even
    /// behind port forwarding.
    /// </summary>
    public int Port { get; init; }

    /// <summary>Longer batches get one -32600 "batch too large" answer, as geth.</summary>
    public int MaxBatchItems { get; init; } = DefaultMaxBatchItems;

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad value.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Name))
        {
            throw new ArgumentException("RPC endpoint name must not be empty", nameof(Name));
        }

        if (MaxRequestBodyBytes is <= 0 or > int.MaxValue)
        {
            throw new ArgumentException($"RPC endpoint {Name}: MaxRequestBodyBytes must be in 1..{int.MaxValue}, got {MaxRequestBodyBytes}", nameof(MaxRequestBodyBytes));
        }

        if (MaxBatchItems <= 0)
        {
            throw new ArgumentException($"RPC endpoint {Name}: MaxBatchItems must be positive, got {MaxBatchItems}", nameof(MaxBatchItems));
        }

        if (Port is < 0 or > 65535)
        {
            throw new ArgumentException($"RPC endpoint {Name}: Port must be 0..65535, got {Port}", nameof(Port));
        }

        if (string.IsNullOrEmpty(Path) || Path[0] != '/')
        {
            throw new ArgumentException($"RPC endpoint {Name}: Path must start with '/', got '{Path}'", nameof(Path));
        }
    }
}

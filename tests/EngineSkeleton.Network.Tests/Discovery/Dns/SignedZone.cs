using System.Buffers.Text;
using System.Text;
using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Network.DevP2p.Rlpx;
using EngineSkeleton.Network.Discovery.Dns;
using Microsoft.Extensions.Logging;

namespace EngineSkeleton.Network.Tests.Discovery.Dns;

/// <summary>
/// An EIP-1459 tree a test builds and signs itself, by the EIP's rules (not with the walker's code), held in memory
/// and served by <see cref="ZoneResolver"/>: no DNS query leaves the process.
/// </summary>
internal sealed class SignedZone(string domain)
{
    public Dictionary<string, string[]> Entries { get; } = new(StringComparer.Ordinal);

    public string Domain { get; } = domain;

    public static string UrlOf(NodeKey key, string domain)
    {
        Span<byte> compressed = stackalloc byte[33];
        key.PrivateKey.CreatePubKey().WriteToSpan(compressed: true, compressed, out _);
        return EnrTreeUrl.Scheme + Base32.Encode(compressed) + "@" + domain;
    }

    public string Add(string text)
    {
        var hash = Base32.Encode(Keccak256.Hash(Encoding.UTF8.GetBytes(text)).Bytes[..16]);
        Entries[$"{hash}.{Domain}"] = [text];
        return hash;
    }

    public string Branch(params string[] children) => Add(EnrTreeEntry.BranchPrefix + string.Join(',', children));

    /// <summary>Signs the root over the two subtrees with <paramref name="key"/>.</summary>
    public void Sign(NodeKey key, string enrRoot, string linkRoot, ulong seq = 1)
    {
        var signed = $"enrtree-root:v1 e={enrRoot} l={linkRoot} seq={seq}";
        var signature = new byte[65];
        Secp256k1Keys.SignRecoverable(key.PrivateKey, Keccak256.Hash(Encoding.UTF8.GetBytes(signed)).ToArray(), signature);
        Entries[Domain] = [signed + " sig=" + Base64Url.EncodeToString(signature)];
    }
}

/// <summary>A resolver over zones held in memory.</summary>
internal sealed class ZoneResolver(Dictionary<string, string[]> zone) : IDnsTxtResolver
{
    public int Queries { get; private set; }

    public Task<IReadOnlyList<string>> ResolveTxtAsync(string name, CancellationToken cancellationToken)
    {
        Queries++;
        return Task.FromResult<IReadOnlyList<string>>(zone.TryGetValue(name, out var texts) ? texts : []);
    }
}

/// <summary>Log lines kept in memory, so that a test can check what an operator would read.</summary>
internal sealed class ListLoggerProvider : ILoggerProvider
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => new ListLogger(this);

    public void Dispose()
    {
    }

    private sealed class ListLogger(ListLoggerProvider owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (owner._lines)
            {
                owner._lines.Add($"{logLevel} {formatter(state, exception)}");
            }
        }
    }
}

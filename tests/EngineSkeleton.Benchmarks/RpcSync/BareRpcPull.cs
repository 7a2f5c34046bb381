using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace EngineSkeleton.Benchmarks.RpcSync;

/// <summary>
/// The bare client of the <c>rpcsync</c> benchmark: what the wire and the peer allow, with no sync behind it.
/// <paramref name="connections"/> workers over one HTTP handler of as many connections each take the next range of
/// <paramref name="batch"/> numbers and ask them as one JSON-RPC batch of <c>method(number)</c> calls; each answer is
/// parsed and every result hex-decoded (the least a client must do to hold the bytes), nothing more: no RLP decoding,
/// no hashing, no store.
/// </summary>
internal sealed class BareRpcPull(Uri url, int connections, int batch) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { MaxConnectionsPerServer = connections, UseProxy = false })
    {
        Timeout = TimeSpan.FromMinutes(2),
    };

    /// <summary>Pulls <c>method</c> for numbers 1..<paramref name="head"/>; returns the bytes decoded.</summary>
    public async Task<long> PullAsync(string method, ulong head, CancellationToken cancellationToken)
    {
        var next = 0L;
        long bytes = 0;
        var workers = Enumerable.Range(0, connections).Select(_ => Task.Run(async () =>
        {
            long mine = 0;
            while (true)
            {
                var from = (ulong)Interlocked.Add(ref next, batch) - (ulong)batch + 1;
                if (from > head)
                {
                    break;
                }
                var to = Math.Min(head, from + (ulong)batch - 1);
                mine += await PullRangeAsync(method, from, to, cancellationToken);
            }
            Interlocked.Add(ref bytes, mine);
        }, cancellationToken)).ToArray();
        await Task.WhenAll(workers);
        return bytes;
    }

    public void Dispose() => _http.Dispose();

    private async Task<long> PullRangeAsync(string method, ulong from, ulong to, CancellationToken cancellationToken)
    {
        var body = new StringBuilder((int)(to - from + 1) * 64);
        body.Append('[');
        for (var n = from; n <= to; n++)
        {
            body.Append(n == from ? string.Empty : ",")
                .Append("{\"jsonrpc\":\"2.0\",\"id\":").Append(n).Append(",\"method\":\"").Append(method)
                .Append("\",\"params\":[\"0x").Append(n.ToString("x", System.Globalization.CultureInfo.InvariantCulture)).Append("\"]}");
        }
        body.Append(']');
        using var content = new StringContent(body.ToString(), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await _http.PostAsync(url, content, cancellationToken);
        response.EnsureSuccessStatusCode();
        var answer = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        using var doc = JsonDocument.Parse(answer);
        long decoded = 0;
        var count = 0;
        foreach (var item in doc.RootElement.EnumerateArray())
        {
            var hex = item.GetProperty("result").GetString()!;
            decoded += Convert.FromHexString(hex.AsSpan(2)).Length;
            count++;
        }
        if (count != (int)(to - from + 1))
        {
            throw new InvalidOperationException($"asked {to - from + 1} calls of {method}, got {count} answers");
        }
        return decoded;
    }
}

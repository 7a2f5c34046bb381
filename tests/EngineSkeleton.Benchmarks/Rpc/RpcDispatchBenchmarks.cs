using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using EngineSkeleton.Server.Rpc;
using Microsoft.Extensions.Logging.Abstractions;
using StreamJsonRpc;

namespace EngineSkeleton.Benchmarks.Rpc;

/// <summary>
/// Why the HTTP transport shares one JsonRpc per endpoint: dispatching a parsed request through the shared dispatcher
/// versus building a JsonRpc (formatter, target registration, read loop) for each request, as a naive transport would.
/// HTTP and Kestrel costs are excluded from both.
/// </summary>
[MemoryDiagnoser]
public class RpcDispatchBenchmarks
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private RpcMethodTable _methods = null!;
    private HttpRpcChannel _shared = null!;
    private RpcItem _item;

    [GlobalSetup]
    public void Setup()
    {
        _methods = RpcMethodTable.Build([new BenchTarget()]);
        _shared = new HttpRpcChannel(_methods, Json, NullLogger.Instance);
        var body = Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","id":1,"method":"bench_add","params":[1,2]}""");
        RpcRequestParser.TryParse(body, _methods, out var items, out _);
        _item = items[0];
    }

    [GlobalCleanup]
    public void Cleanup() => _shared.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(Baseline = true, Description = "shared JsonRpc (multiplexed)")]
    public async Task<byte[]?> Shared() => await _shared.DispatchAsync(_item, CancellationToken.None);

    [Benchmark(Description = "new JsonRpc per request")]
    public async Task<byte[]?> PerRequest()
    {
        await using var channel = new HttpRpcChannel(_methods, Json, NullLogger.Instance);
        return await channel.DispatchAsync(_item, CancellationToken.None);
    }

    private sealed class BenchTarget
    {
        [JsonRpcMethod("bench_add")]
        public static long Add(long a, long b) => a + b;
    }
}

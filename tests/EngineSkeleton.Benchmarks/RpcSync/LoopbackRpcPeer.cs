using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text.Json;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Testing.Rpc;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EngineSkeleton.Benchmarks.RpcSync;

/// <summary>
/// The fast in-memory JSON-RPC peer of the <c>rpcsync</c> benchmark: Kestrel on 127.0.0.1 serving a generated chain
/// as an ethereumjs-like node does (<see cref="FakeRpcNode"/>'s method set: <c>debug_getRawHeader</c> and
/// <c>debug_getRawBlock</c> by number, <c>eth_getBlockByNumber</c>/<c>eth_getBlockByHash</c> as block JSON written by
/// <see cref="FakeRpcNode.WriteBlockJson"/>, <c>eth_chainId</c>). Header RLP is computed once up front so the peer
/// costs the sync as little CPU as possible (both sides share the machine's cores); blocks are encoded per request,
/// the same for the bare client and the node. It keeps no call log (FakeRpcNode's would grow by millions of strings).
/// </summary>
internal sealed class LoopbackRpcPeer : IAsyncDisposable
{
    private static readonly byte[] EmptyBodyFields = [0xc0, 0xc0, 0xc0];

    private readonly WebApplication _app;
    private readonly byte[][] _headers;
    private readonly Dictionary<Hash256, int> _numbers;
    private readonly IReadOnlyList<BlockHeader> _chain;
    private readonly IReadOnlyList<BlockBody?>? _bodies;
    private long _requests;

    private LoopbackRpcPeer(WebApplication app, IReadOnlyList<BlockHeader> chain, IReadOnlyList<BlockBody?>? bodies, byte[][] headers, Dictionary<Hash256, int> numbers)
    {
        _app = app;
        _chain = chain;
        _bodies = bodies;
        _headers = headers;
        _numbers = numbers;
    }

    public Uri Url { get; private set; } = null!;

    public long Requests => Interlocked.Read(ref _requests);

    /// <param name="chain">Headers by number, the genesis at 0.</param>
    /// <param name="bodies">Bodies by number; null when every body is empty.</param>
    public static async Task<LoopbackRpcPeer> StartAsync(IReadOnlyList<BlockHeader> chain, IReadOnlyList<BlockBody?>? bodies)
    {
        var headers = new byte[chain.Count][];
        var hashes = new Hash256[chain.Count];
        Parallel.For(0, chain.Count, i =>
        {
            var header = chain[i];
            headers[i] = header.Encode();
            hashes[i] = header.Hash;
        });
        var numbers = new Dictionary<Hash256, int>(chain.Count);
        for (var i = 0; i < hashes.Length; i++)
        {
            numbers[hashes[i]] = i;
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o =>
        {
            o.Listen(IPAddress.Loopback, 0);
            o.Limits.MaxRequestBodySize = 64 * 1024 * 1024;
        });
        var app = builder.Build();
        var peer = new LoopbackRpcPeer(app, chain, bodies, headers, numbers);
        app.Run(peer.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        peer.Url = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/");
        return peer;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref _requests);
        var length = (int)(context.Request.ContentLength ?? 0);
        using var body = new MemoryStream(length > 0 ? length : 4096);
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        var output = new ArrayBufferWriter<byte>(64 * 1024);
        Answer(body.GetBuffer().AsMemory(0, (int)body.Length), output);
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = output.WrittenCount;
        await context.Response.Body.WriteAsync(output.WrittenMemory, context.RequestAborted);
    }

    private void Answer(ReadOnlyMemory<byte> request, IBufferWriter<byte> output)
    {
        using var doc = JsonDocument.Parse(request);
        using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true });
        var root = doc.RootElement;
        if (root.ValueKind == JsonValueKind.Array)
        {
            writer.WriteStartArray();
            foreach (var call in root.EnumerateArray())
            {
                AnswerOne(writer, call);
            }
            writer.WriteEndArray();
        }
        else
        {
            AnswerOne(writer, root);
        }
    }

    private void AnswerOne(Utf8JsonWriter writer, JsonElement call)
    {
        writer.WriteStartObject();
        writer.WriteString("jsonrpc"u8, "2.0"u8);
        writer.WritePropertyName("id"u8);
        call.GetProperty("id").WriteTo(writer);
        var method = call.GetProperty("method").GetString();
        var parameters = call.TryGetProperty("params", out var p) && p.ValueKind == JsonValueKind.Array ? p : default;
        var first = parameters.ValueKind == JsonValueKind.Array && parameters.GetArrayLength() > 0 ? parameters[0].GetString() : null;
        switch (method)
        {
            case "eth_chainId":
                writer.WriteString("result"u8, "0x1"u8);
                break;
            case "debug_getRawHeader" when Number(first) is { } n:
                WriteHex(writer, _headers[n]);
                break;
            case "debug_getRawBlock" when Number(first) is { } n:
                WriteHex(writer, RawBlock(n));
                break;
            case "eth_getBlockByNumber" when Number(first) is { } n:
                writer.WritePropertyName("result"u8);
                FakeRpcNode.WriteBlockJson(writer, new Block(_chain[n], _bodies?[n] ?? BlockBody.Empty));
                break;
            case "eth_getBlockByHash" when first is not null && Hash256.TryParse(first, out var hash):
                if (_numbers.TryGetValue(hash, out var at))
                {
                    writer.WritePropertyName("result"u8);
                    FakeRpcNode.WriteBlockJson(writer, new Block(_chain[at], _bodies?[at] ?? BlockBody.Empty));
                }
                else
                {
                    writer.WriteNull("result"u8);
                }
                break;
            case "debug_getRawHeader" or "debug_getRawBlock" or "eth_getBlockByNumber":
                WriteError(writer, -32602, "specified block greater than current height");
                break;
            default:
                WriteError(writer, -32601, $"the method {method} does not exist/is not available");
                break;
        }
        writer.WriteEndObject();
    }

    private byte[] RawBlock(int n)
    {
        if (_bodies is null)
        {
            // [header, [], [], []]: the RLP of an empty post-Shanghai block, without building the block.
            var header = _headers[n];
            var payload = header.Length + EmptyBodyFields.Length;
            var prefix = payload < 56 ? 1 : 1 + BytesOf(payload);
            var raw = new byte[prefix + payload];
            if (payload < 56)
            {
                raw[0] = (byte)(0xc0 + payload);
            }
            else
            {
                raw[0] = (byte)(0xf7 + prefix - 1);
                for (int i = prefix - 1, v = payload; i >= 1; i--, v >>= 8)
                {
                    raw[i] = (byte)v;
                }
            }
            header.CopyTo(raw, prefix);
            EmptyBodyFields.CopyTo(raw, prefix + header.Length);
            return raw;
        }
        return new Block(_chain[n], _bodies[n]!).Encode();
    }

    private static int BytesOf(int value)
    {
        var bytes = 0;
        for (; value > 0; value >>= 8)
        {
            bytes++;
        }
        return bytes;
    }

    private int? Number(string? quantity) =>
        quantity is ['0', 'x', ..] && ulong.TryParse(quantity.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var n) && n < (ulong)_headers.Length
            ? (int)n
            : null;

    private static void WriteHex(Utf8JsonWriter writer, byte[] bytes)
    {
        var chars = ArrayPool<byte>.Shared.Rent(2 + (bytes.Length * 2));
        try
        {
            chars[0] = (byte)'0';
            chars[1] = (byte)'x';
            Convert.TryToHexStringLower(bytes, chars.AsSpan(2), out var written);
            writer.WriteString("result"u8, chars.AsSpan(0, 2 + written));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chars);
        }
    }

    private static void WriteError(Utf8JsonWriter writer, int code, string message)
    {
        writer.WriteStartObject("error"u8);
        writer.WriteNumber("code"u8, code);
        writer.WriteString("message"u8, message);
        writer.WriteEndObject();
    }
}

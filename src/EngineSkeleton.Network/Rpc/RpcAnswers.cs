using System.Buffers;
using System.Globalization;
using System.Text.Json;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Sync.Peers;

namespace EngineSkeleton.Network.Rpc;

/// <summary>The methods an RPC peer calls, and how it reads and judges their answers.</summary>
internal static class RpcAnswers
{
    public const string RawHeaderMethod = "debug_getRawHeader";
    public const string RawBlockMethod = "debug_getRawBlock";
    public const string BlockByNumberMethod = "eth_getBlockByNumber";
    public const string BlockByHashMethod = "eth_getBlockByHash";
    public const string UncleMethod = "eth_getUncleByBlockHashAndIndex";

    public static string Quantity(ulong number) => "0x" + number.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>Whether a call's answer says the node lacks the block; throws if it says something else is wrong.</summary>
    public static bool IsMissing(JsonRpcAnswer answer, JsonRpcCall call)
    {
        if (answer.Error is { Code: JsonRpcError.MethodNotFound } error)
        {
            throw new PeerException($"{call.Method} no longer served: {error}");
        }
        // Nodes differ on a block they lack: null (geth, hardhat) or an error (ethereumjs: -32602 "specified block
        // greater than current height"). Either way the answer ends there; a node that errs on every call only
        // ever answers nothing, which costs it its capacity in the peer set.
        return answer.Error is not null || answer.IsNull;
    }

    /// <summary>Waits for every batch sent (a failed one is already reported by the first await) and frees its document.</summary>
    public static async Task DisposeAllAsync(IEnumerable<Task<JsonRpcBatch>> answers)
    {
        foreach (var answer in answers)
        {
            try
            {
                (await answer).Dispose();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Its failure is the request's, thrown where it was first awaited, or moot after an earlier one.
            }
        }
    }

    /// <summary>The header in a debug_getRawHeader answer, which must be block <paramref name="number"/>.</summary>
    public static BlockHeader RawHeader(JsonRpcAnswer answer, ulong number)
    {
        if (!TryDecodeHex(answer.Result, out var rlp))
        {
            throw new PeerException($"raw header #{number} is not hex bytes");
        }
        using var _ = rlp;
        if (!BlockHeader.TryDecode(rlp.Span, out var header, out var error))
        {
            throw new PeerException($"raw header #{number} does not decode: {error}");
        }
        return header;
    }

    /// <summary>The header rebuilt from a block object; its fields must hash to the hash the node gives with them.</summary>
    public static BlockHeader JsonHeader(JsonRpcAnswer answer, string what)
    {
        if (!RpcBlockJson.TryReadHeader(answer.Result, out var header, out var claimed, out var error))
        {
            throw new PeerException($"{what} is malformed: {error}");
        }
        if (header.Hash != claimed)
        {
            throw new PeerException($"rebuilt header hash mismatch for {what}: the node says {claimed}, its fields hash to {header.Hash}");
        }
        return header;
    }

    /// <summary>
    /// The bytes of a JSON string of 0x-prefixed hex (a raw header or block), decoded straight from the answer's UTF-8
    /// without the intermediate string, into a buffer rented from <see cref="ArrayPool{T}.Shared"/> that the caller
    /// disposes once it has decoded the RLP: on a sync's hot path a raw block is read once per block, and both the
    /// string of its hex and a fresh array of its bytes (100 KB for a mainnet-like block: the large-object heap,
    /// freed only by a full collection) were garbage at once (docs/benchmarks.md, Sync from a JSON-RPC peer). A string
    /// with escapes takes the string path; false for anything that is not hex bytes.
    /// </summary>
    public static bool TryDecodeHex(JsonElement result, out PooledBytes bytes)
    {
        bytes = default;
        if (result.ValueKind != JsonValueKind.String)
        {
            return false;
        }
        var raw = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(result);
        if (raw.Length >= 4 && raw[0] == (byte)'"' && raw[^1] == (byte)'"')
        {
            raw = raw[1..^1];
        }
        if (raw.IndexOf((byte)'\\') >= 0)
        {
            if (!Hex.TryDecode(result.GetString(), out var unescaped))
            {
                return false;
            }
            bytes = new PooledBytes(unescaped, unescaped.Length, rented: false);
            return true;
        }
        if (raw.Length < 2 || raw[0] != (byte)'0' || (raw[1] != (byte)'x' && raw[1] != (byte)'X') || (raw.Length & 1) != 0)
        {
            return false;
        }
        var digits = raw[2..];
        var length = digits.Length / 2;
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        if (Convert.FromHexString(digits, buffer.AsSpan(0, length), out _, out var written) != OperationStatus.Done || written != length)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return false;
        }
        bytes = new PooledBytes(buffer, length, rented: true);
        return true;
    }
}

/// <summary>Bytes decoded into a buffer that may be rented from <see cref="ArrayPool{T}.Shared"/>: returned on dispose.</summary>
internal readonly struct PooledBytes(byte[] buffer, int length, bool rented) : IDisposable
{
    public ReadOnlySpan<byte> Span => buffer.AsSpan(0, length);

    public void Dispose()
    {
        if (rented)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

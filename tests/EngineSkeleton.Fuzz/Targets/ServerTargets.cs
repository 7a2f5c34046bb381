using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Payloads;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Server.Auth;
using EngineSkeleton.Server.Engine.Wire;
using EngineSkeleton.Server.Rpc;
using StreamJsonRpc;
using static EngineSkeleton.Fuzz.Targets.CoreTargets;

namespace EngineSkeleton.Fuzz.Targets;

/// <summary>
/// The host's decoders (src/EngineSkeleton.Server): the JSON-RPC body parser, which refuses nothing by exception (a
/// body that is not JSON is <c>false</c>, a bad request object an answer); the Engine API payload reader, whose one
/// refusal is <see cref="RpcException"/> (-32602); and the JWT check, which answers every token with a verdict.
/// </summary>
internal static class ServerTargets
{
    /// <summary>The hive secret (execution-apis authentication.md's example) and a fixed "now" for the JWT targets.</summary>
    private static readonly byte[] Secret = Convert.FromHexString("7365637265747365637265747365637265747365637265747365637265747365");

    internal static readonly DateTimeOffset Now = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly JwtValidator Validator = new(JwtSecret.FromBytes(Secret), new FixedClock(Now));

    private static readonly RpcMethodTable Methods = RpcMethodTable.Build([new EngineLikeTarget()]);

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    public static IEnumerable<FuzzTarget> All =>
    [
        new("rpc-request", "RpcRequestParser.TryParse over an HTTP body (single and batch)", RpcRequest),
        new("payload-json", "PayloadJson.Parse (V1, V1/V2, V3) then PayloadConverter.ToBlock/FromBlock", Payload),
        new("jwt", "JwtValidator.ValidateHeaderAsync over an Authorization header value", Jwt),
        new("jwt-signed", "JwtValidator over tokens the target signs with the secret: header JSON, 0x00, claims JSON", JwtSigned),
    ];

    private static void RpcRequest(ReadOnlySpan<byte> input)
    {
        var body = input.ToArray();
        if (!RpcRequestParser.TryParse(body, Methods, out var items, out var isBatch))
        {
            Expect(items.Length == 0, "a refused body still yields request items");
            return;
        }
        foreach (var item in items)
        {
            switch (item.Kind)
            {
                case RpcItemKind.Answer:
                    // What the transport writes back must be JSON.
                    using (JsonDocument.Parse(item.Answer)) { }
                    break;
                case RpcItemKind.Dispatch:
                    Expect(item.Method is not null && Methods.Contains(item.Method), "a dispatched item names no registered method");
                    using (JsonDocument.Parse(item.Message)) { }
                    break;
                default:
                    Expect(item.IsNotification, "a silent item that is not a notification");
                    break;
            }
        }
    }

    private static void Payload(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return;
        }
        if (!Utf8.IsValid(input))
        {
            return; // RpcRequestParser refuses the body (-32700) before StreamJsonRpc reads a parameter.
        }
        var shape = (PayloadShape)((input[0] & 0x7f) % 3);
        var withRequests = (input[0] & 0x80) != 0;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(input[1..].ToArray(), DocumentOptions);
        }
        catch (JsonException)
        {
            return; // StreamJsonRpc answers -32700 before any handler sees it.
        }
        using (document)
        {
            ExecutionPayload payload;
            try
            {
                payload = PayloadJson.Parse(document.RootElement, shape);
            }
            catch (RpcException e)
            {
                Expect(e.Code == RpcErrorCodes.InvalidParams, "a payload refused with a code other than -32602");
                return;
            }
            // What newPayload does next: the transactions' shape, then the block and its hash.
            var wellFormed = true;
            foreach (var tx in payload.Transactions)
            {
                wellFormed &= Transactions.TryGetBlobVersionedHashes(tx, out _, out _);
            }
            var v3 = shape == PayloadShape.V3;
            var block = PayloadConverter.ToBlock(payload, v3 ? Hash256.Zero : null, v3 && withRequests ? ExecutionRequests.EmptyHash : null);
            _ = block.Hash;
            var back = PayloadConverter.FromBlock(block);
            Expect(back.Transactions.Count == payload.Transactions.Count && back.Timestamp == payload.Timestamp
                && back.BaseFeePerGas == payload.BaseFeePerGas && back.ExtraData.AsSpan().SequenceEqual(payload.ExtraData), "payload → block → payload changes it");
            if (wellFormed)
            {
                // newPayload refuses a payload with a malformed transaction (INVALID) before it stores the block.
                var decoded = Block.Decode(block.Encode());
                Expect(decoded.Hash == block.Hash, "a payload's block does not survive its own RLP");
            }
        }
    }

    private static void Jwt(ReadOnlySpan<byte> input)
    {
        var header = Encoding.UTF8.GetString(input);
        var result = Validator.ValidateHeaderAsync(header).AsTask().GetAwaiter().GetResult();
        Expect(result.IsValid == (result.Failure == JwtFailure.None), "a JWT verdict that contradicts itself");
    }

    private static void JwtSigned(ReadOnlySpan<byte> input)
    {
        var split = input.IndexOf((byte)0);
        var headerJson = split < 0 ? """{"alg":"HS256","typ":"JWT"}"""u8 : input[..split];
        var claimsJson = split < 0 ? input : input[(split + 1)..];
        var signingInput = Base64Url.EncodeToString(headerJson) + "." + Base64Url.EncodeToString(claimsJson);
        var signature = HMACSHA256.HashData(Secret, Encoding.ASCII.GetBytes(signingInput));
        var token = signingInput + "." + Base64Url.EncodeToString(signature);
        var result = Validator.ValidateTokenAsync(token).AsTask().GetAwaiter().GetResult();
        Expect(result.IsValid == (result.Failure == JwtFailure.None), "a JWT verdict that contradicts itself");
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    /// <summary>Engine-shaped method names and arities for the parser to check requests against; never called.</summary>
    private sealed class EngineLikeTarget
    {
        [JsonRpcMethod("engine_exchangeCapabilities")]
        public static int ExchangeCapabilities(JsonElement capabilities) => capabilities.ValueKind == JsonValueKind.Array ? 1 : 0;

        [JsonRpcMethod("engine_newPayloadV3")]
        public static int NewPayloadV3(JsonElement payload = default, JsonElement hashes = default, JsonElement root = default) =>
            payload.ValueKind == hashes.ValueKind && hashes.ValueKind == root.ValueKind ? 1 : 0;

        [JsonRpcMethod("engine_forkchoiceUpdatedV3")]
        public static int ForkchoiceUpdatedV3(JsonElement state = default, JsonElement attributes = default) =>
            state.ValueKind == attributes.ValueKind ? 1 : 0;

        [JsonRpcMethod("eth_blockNumber")]
        public static int BlockNumber() => 0;
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;
using EngineSkeleton.Server.Tests.Support;
using EngineSkeleton.Testing.Chains;

namespace EngineSkeleton.Server.Tests.Engine;

/// <summary>
/// Every Engine API error and refusal through real HTTP on loopback, against one node seeded with blocks 0..46.
/// Every forkchoice here names head 46, so the order the tests run in cannot change what they see.
/// </summary>
public sealed class EngineErrorTests : IAsyncLifetime
{
    private TestNode _node = null!;

    public async Task InitializeAsync()
    {
        _node = await TestNode.StartAsync();
        _node.SeedThrough(46);
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    private static string H(ulong n) => ExecutionApisChain.At(n).Header.Hash.ToString();

    private static readonly string Zero = "0x" + new string('0', 64);

    private static readonly string Unknown = "0x" + new string('a', 64);

    private static JsonObject Fcs(string head, string safe, string finalized) =>
        new() { ["headBlockHash"] = head, ["safeBlockHash"] = safe, ["finalizedBlockHash"] = finalized };

    private static JsonObject AttributesV3(ulong timestamp) => new()
    {
        ["timestamp"] = PayloadWriter.Q(timestamp),
        ["prevRandao"] = Zero,
        ["suggestedFeeRecipient"] = "0x" + new string('1', 40),
        ["withdrawals"] = new JsonArray(),
        ["parentBeaconBlockRoot"] = Zero,
    };

    public static TheoryData<string, string, Func<JsonNode?[]>, int> Errors => new()
    {
        { "newPayload with no params is -32602", "engine_newPayloadV4", () => [], -32602 },
        { "newPayload with a null payload is -32602 (null counts as missing)", "engine_newPayloadV3", () => [null, new JsonArray(), Zero], -32602 },
        { "newPayloadV3 without parentBeaconBlockRoot is -32602", "engine_newPayloadV3", () => [PayloadWriter.Payload(ExecutionApisChain.At(44), 3), new JsonArray()], -32602 },
        { "newPayloadV4 with executionRequests null is -32602", "engine_newPayloadV4", () => [PayloadWriter.Payload(ExecutionApisChain.At(47), 3), new JsonArray(), Zero, null], -32602 },
        { "newPayloadV4 with requests out of type order is -32602", "engine_newPayloadV4", () => [PayloadWriter.Payload(ExecutionApisChain.At(47), 3), new JsonArray(), Zero, new JsonArray("0x0102", "0x0001")], -32602 },
        { "newPayloadV4 with an empty request is -32602", "engine_newPayloadV4", () => [PayloadWriter.Payload(ExecutionApisChain.At(47), 3), new JsonArray(), Zero, new JsonArray("0x01")], -32602 },
        { "a quantity with leading zeros is -32602", "engine_newPayloadV4", () => [WithField(PayloadWriter.Payload(ExecutionApisChain.At(47), 3), "gasUsed", "0x01"), new JsonArray(), Zero, new JsonArray()], -32602 },
        { "a hash of 31 bytes is -32602", "engine_newPayloadV4", () => [WithField(PayloadWriter.Payload(ExecutionApisChain.At(47), 3), "stateRoot", "0x" + new string('1', 62)), new JsonArray(), Zero, new JsonArray()], -32602 },
        { "newPayloadV2 with blob fields is -32602 before the fork check", "engine_newPayloadV2", () => [PayloadWriter.Payload(ExecutionApisChain.At(47), 3)], -32602 },
        { "newPayloadV2 with a Cancun payload is -38005", "engine_newPayloadV2", () => [PayloadWriter.Payload(ExecutionApisChain.At(44), 2)], -38005 },
        { "newPayloadV4 with a Cancun payload is -38005", "engine_newPayloadV4", () => [PayloadWriter.Payload(ExecutionApisChain.At(44), 3), new JsonArray(), Zero, new JsonArray()], -38005 },
        { "newPayloadV1 with withdrawals is -32602", "engine_newPayloadV1", () => [PayloadWriter.Payload(ExecutionApisChain.At(47), 2)], -32602 },
        { "forkchoiceUpdated without a state is -32602", "engine_forkchoiceUpdatedV3", () => [], -32602 },
        { "forkchoiceUpdated with a malformed head is -32602", "engine_forkchoiceUpdatedV3", () => [Fcs("0x12", Zero, Zero), null], -32602 },
        { "a safe block that is unknown is -38002", "engine_forkchoiceUpdatedV3", () => [Fcs(H(46), Unknown, Zero), null], -38002 },
        { "a finalized block that is not an ancestor of the head is -38002", "engine_forkchoiceUpdatedV3", () => [Fcs(H(40), H(40), H(41)), null], -38002 },
        { "attributes not after the head are -38003", "engine_forkchoiceUpdatedV3", () => [Fcs(H(46), H(46), Zero), AttributesV3(ExecutionApisChain.At(46).Header.Timestamp)], -38003 },
        { "V3 attributes without parentBeaconBlockRoot are -38003", "engine_forkchoiceUpdatedV3", () => [Fcs(H(46), H(46), Zero), WithoutField(AttributesV3(10_000), "parentBeaconBlockRoot")], -38003 },
        { "V3 attributes with a Shanghai timestamp are -38005", "engine_forkchoiceUpdatedV3", () => [Fcs(H(46), H(46), Zero), AttributesV3(400)], -38005 },
        { "valid attributes on a VALID head: building is refused, clearly", "engine_forkchoiceUpdatedV3", () => [Fcs(H(46), H(46), Zero), AttributesV3(10_000)], -32000 },
        { "getPayload of any version is -38001", "engine_getPayloadV4", () => ["0x0000000000000001"], -38001 },
        { "getPayloadV5 is -38001", "engine_getPayloadV5", () => ["0x0000000000000001"], -38001 },
        { "a payloadId of 7 bytes is -32602", "engine_getPayloadV1", () => ["0x00000000000001"], -32602 },
        { "more than 1024 bodies by hash is -38004", "engine_getPayloadBodiesByHashV1", () => [new JsonArray([.. Enumerable.Repeat<JsonNode?>(Zero, 1025).Select(n => n?.DeepClone())])], -38004 },
        { "more than 1024 bodies by range is -38004", "engine_getPayloadBodiesByRangeV1", () => ["0x1", "0x401"], -38004 },
        { "a range starting at 0 is -32602", "engine_getPayloadBodiesByRangeV1", () => ["0x0", "0x1"], -32602 },
        { "a range of count 0 is -32602", "engine_getPayloadBodiesByRangeV1", () => ["0x1", "0x0"], -32602 },
        { "more than 128 blobs is -38004", "engine_getBlobsV1", () => [new JsonArray([.. Enumerable.Range(0, 129).Select(_ => (JsonNode?)Zero)])], -38004 },
        { "exchangeCapabilities with a non-string is -32602", "engine_exchangeCapabilities", () => [new JsonArray(1)], -32602 },
        { "getClientVersionV1 without the caller's version is -32602", "engine_getClientVersionV1", () => [], -32602 },
        { "an unknown engine method is -32601", "engine_newPayloadV9", () => [], -32601 },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public async Task Each_refusal_has_its_spec_error_code(string because, string method, Func<JsonNode?[]> args, int code)
    {
        var response = await _node.Engine(method, args());

        Assert.True(response.TryGetProperty("error", out var error), $"{because}: {response}");
        Assert.Equal(code, error.GetProperty("code").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
    }

    [Fact]
    public async Task Building_is_refused_after_the_forkchoice_is_applied()
    {
        var response = await _node.Engine("engine_forkchoiceUpdatedV3", Fcs(H(46), H(45), H(40)), AttributesV3(10_000));

        Assert.Equal(-32000, response.ErrorCode());
        Assert.Contains("not supported", response.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(H(45), (await _node.Public("eth_getBlockByNumber", "safe", false)).Result().GetProperty("hash").GetString());
        Assert.Equal(H(40), (await _node.Public("eth_getBlockByNumber", "finalized", false)).Result().GetProperty("hash").GetString());
    }

    [Fact]
    public async Task A_zero_head_is_INVALID()
    {
        var response = await _node.Engine("engine_forkchoiceUpdatedV3", Fcs(Zero, Zero, Zero), null);

        Assert.Equal("INVALID", response.FcuStatus());
    }

    [Fact]
    public async Task Payload_bodies_come_from_what_the_node_has()
    {
        var byRange = (await _node.Engine("engine_getPayloadBodiesByRangeV1", "0x2c", "0x10")).Result();
        var byHash = (await _node.Engine("engine_getPayloadBodiesByHashV1", new JsonArray(H(46), Unknown, H(20)))).Result();

        Assert.Equal(3, byRange.GetArrayLength()); // 44, 45, 46; beyond the head is trimmed
        Assert.Equal(ExecutionApisChain.At(44).Body.Transactions.Count, byRange[0].GetProperty("transactions").GetArrayLength());
        Assert.Equal(JsonValueKind.Array, byRange[0].GetProperty("withdrawals").ValueKind);
        Assert.Equal(JsonValueKind.Object, byHash[0].ValueKind);
        Assert.Equal(JsonValueKind.Null, byHash[1].ValueKind);
        Assert.Equal(JsonValueKind.Null, byHash[2].GetProperty("withdrawals").ValueKind); // pre-Shanghai body
    }

    [Fact]
    public async Task GetBlobsV1_answers_a_null_per_hash_before_Osaka()
    {
        var blobs = (await _node.Engine("engine_getBlobsV1", new JsonArray(Zero, Unknown))).Result();

        Assert.Equal([JsonValueKind.Null, JsonValueKind.Null], blobs.EnumerateArray().Select(b => b.ValueKind));
    }

    [Fact]
    public async Task The_public_port_serves_no_engine_method_and_needs_no_token()
    {
        var engine = await _node.Public("engine_exchangeCapabilities", new JsonArray());
        var chainId = await _node.Public("eth_chainId");

        Assert.Equal(-32601, engine.ErrorCode());
        Assert.Equal("0xc72dd9d5e883e", chainId.Result().GetString());
    }

    [Fact]
    public async Task Rpc_discover_documents_exactly_the_methods_each_port_registers()
    {
        var document = (await _node.Public("rpc_discover")).Result();
        var documented = document.GetProperty("methods").EnumerateArray()
            .ToDictionary(m => m.GetProperty("name").GetString()!, m => m.GetProperty("tags")[0].GetProperty("name").GetString());

        Assert.Equal(documented.Keys.Order(StringComparer.Ordinal), _node.Host.EngineEndpoint.MethodNames.Order(StringComparer.Ordinal));
        Assert.Equal(
            documented.Where(m => m.Value == "read").Select(m => m.Key).Order(StringComparer.Ordinal),
            _node.Host.HttpEndpoint.MethodNames.Order(StringComparer.Ordinal));
    }

    private static JsonObject WithField(JsonObject o, string field, string value)
    {
        o[field] = value;
        return o;
    }

    private static JsonObject WithoutField(JsonObject o, string field)
    {
        o.Remove(field);
        return o;
    }
}

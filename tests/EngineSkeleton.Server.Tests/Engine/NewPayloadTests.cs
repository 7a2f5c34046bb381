using System.Text.Json.Nodes;
using EngineSkeleton.Server.Tests.Support;
using EngineSkeleton.Testing.Chains;

namespace EngineSkeleton.Server.Tests.Engine;

/// <summary>engine_newPayload over real HTTP with the execution-apis chain (genesis through Osaka).</summary>
public sealed class NewPayloadTests
{
    [Fact]
    public async Task Replaying_the_chain_block_by_block_answers_VALID_and_serves_the_source_hashes()
    {
        await using var node = await TestNode.StartAsync();
        node.SeedThrough(35); // the proof-of-work part: a beacon node never sends it

        for (ulong n = 36; n <= 54; n++)
        {
            var block = ExecutionApisChain.At(n);
            if (n == 45)
            {
                // Block 45's execution requests come from system contracts and are not in the test data (see
                // PayloadConverterTests); it is stored as the beacon node's sync would have stored it.
                node.Host.Store.WriteBlock(block);
            }
            else
            {
                var (method, args) = PayloadWriter.NewPayload(block);
                var status = await node.Engine(method, args);
                Assert.Equal("VALID", status.Status());
                Assert.Equal(block.Header.Hash.ToString(), status.Result().GetProperty("latestValidHash").GetString());
            }
            var fcu = await node.Engine(ForkchoiceMethod(block), PayloadWriter.Forkchoice(block.Header.Hash), null);
            Assert.Equal("VALID", fcu.FcuStatus());
            Assert.Null(fcu.Result().GetProperty("payloadId").GetString());
        }

        for (ulong n = 0; n <= 54; n++)
        {
            var byNumber = await node.Public("eth_getBlockByNumber", PayloadWriter.Q(n), false);
            Assert.Equal(ExecutionApisChain.At(n).Header.Hash.ToString(), byNumber.Result().GetProperty("hash").GetString());
        }
        Assert.Equal("0x36", (await node.Public("eth_blockNumber")).Result().GetString());
    }

    public static TheoryData<string, string> PayloadFields => new()
    {
        { "parentHash", "a changed parent hash" },
        { "feeRecipient", "a changed fee recipient" },
        { "stateRoot", "a changed state root" },
        { "receiptsRoot", "a changed receipts root" },
        { "logsBloom", "a changed logs bloom" },
        { "prevRandao", "a changed prevRandao" },
        { "blockNumber", "a changed block number" },
        { "gasLimit", "a changed gas limit" },
        { "gasUsed", "a changed gas used" },
        { "timestamp", "a changed timestamp" },
        { "extraData", "a changed extraData" },
        { "baseFeePerGas", "a changed base fee" },
        { "blockHash", "a changed block hash" },
        { "transactions", "a changed transaction byte" },
        { "withdrawals", "a changed withdrawal amount" },
        { "blobGasUsed", "a changed blob gas used" },
        { "excessBlobGas", "a changed excess blob gas" },
    };

    [Theory]
    [MemberData(nameof(PayloadFields))]
    public async Task A_one_byte_change_anywhere_in_a_V4_payload_is_INVALID_with_no_latest_valid_hash(string field, string because)
    {
        await using var node = await TestNode.StartAsync();
        var block = ExecutionApisChain.Blocks.First(b => b.Header.Number > 45 && b.Body.Withdrawals is [_, ..] && b.Body.Transactions.Count > 0);
        node.SeedThrough(block.Header.Number - 1);
        var (method, args) = PayloadWriter.NewPayload(block);
        var payload = (JsonObject)args[0]!;
        Flip(payload, field);

        var status = await node.Engine(method, args);

        Assert.True(status.Status() == "INVALID", $"{because}: {status}");
        Assert.Equal(System.Text.Json.JsonValueKind.Null, status.Result().GetProperty("latestValidHash").ValueKind);
        Assert.False(node.Host.Store.HasBlock(block.Header.Hash));
    }

    [Fact]
    public async Task A_one_byte_change_in_a_V1_payload_is_INVALID_BLOCK_HASH()
    {
        await using var node = await TestNode.StartAsync();
        node.SeedThrough(35);
        var payload = PayloadWriter.Payload(ExecutionApisChain.At(36), 1);
        Flip(payload, "stateRoot");

        var status = await node.Engine("engine_newPayloadV1", payload);

        Assert.Equal("INVALID_BLOCK_HASH", status.Status());
    }

    [Fact]
    public async Task The_requests_commitment_enters_the_block_hash()
    {
        await using var node = await TestNode.StartAsync();
        node.SeedThrough(44);
        var (method, args) = PayloadWriter.NewPayload(ExecutionApisChain.At(45), requests: []);

        var status = await node.Engine(method, args);

        Assert.Equal("INVALID", status.Status()); // block 45 carries requests; claiming none changes its hash
    }

    [Fact]
    public async Task A_Prague_block_through_newPayloadV3_is_an_unsupported_fork()
    {
        await using var node = await TestNode.StartAsync();
        var block = ExecutionApisChain.At(45);

        var response = await node.Engine(
            "engine_newPayloadV3", PayloadWriter.Payload(block, 3), PayloadWriter.BlobHashes(block), block.Header.ParentBeaconBlockRoot!.ToString());

        Assert.Equal(-38005, response.ErrorCode());
    }

    [Fact]
    public async Task Wrong_blob_versioned_hashes_are_INVALID_even_when_the_parent_is_unknown()
    {
        await using var node = await TestNode.StartAsync();
        var block = ExecutionApisChain.Blocks.First(b => b.Header.BlobGasUsed > 0);
        var (method, args) = PayloadWriter.NewPayload(block);
        args[1] = new JsonArray();

        var status = await node.Engine(method, args);

        Assert.Equal("INVALID", status.Status());
    }

    [Fact]
    public async Task A_payload_with_an_unknown_parent_is_SYNCING_and_its_header_starts_the_sync_on_forkchoice()
    {
        await using var node = await TestNode.StartAsync();
        var block = ExecutionApisChain.At(50);
        var (method, args) = PayloadWriter.NewPayload(block);

        Assert.Equal("SYNCING", (await node.Engine(method, args)).Status());
        var fcu = await node.Engine("engine_forkchoiceUpdatedV3", PayloadWriter.Forkchoice(block.Header.Hash), null);

        Assert.Equal("SYNCING", fcu.FcuStatus());
        var status = (await node.Public("skeleton_status")).Result();
        Assert.Equal(block.Header.Hash.ToString(), status.GetProperty("announcedHead").GetString());
        Assert.Equal("0x32", status.GetProperty("announcedNumber").GetString());
        var syncing = (await node.Public("eth_syncing")).Result();
        Assert.Equal("0x32", syncing.GetProperty("highestBlock").GetString());
        Assert.False(node.Host.Store.HasBlock(block.Header.Hash));
    }

    [Fact]
    public async Task A_block_breaking_a_header_rule_is_INVALID_with_its_parent_as_latest_valid_hash_and_so_are_its_descendants()
    {
        await using var node = await TestNode.StartAsync();
        node.SeedThrough(46);
        var parent = ExecutionApisChain.At(46);
        var block = ExecutionApisChain.At(47);
        var bad = new Core.Blocks.Block(Core.Blocks.BlockHeader.Decode((block.Header with { GasUsed = block.Header.GasLimit + 1 }).Encode()), block.Body);
        var (method, args) = PayloadWriter.NewPayload(bad);

        var status = await node.Engine(method, args);
        var again = await node.Engine("engine_forkchoiceUpdatedV3", PayloadWriter.Forkchoice(bad.Header.Hash), null);

        Assert.Equal("INVALID", status.Status());
        Assert.Equal(parent.Header.Hash.ToString(), status.Result().GetProperty("latestValidHash").GetString());
        Assert.Equal("INVALID", again.FcuStatus());
        Assert.Equal(parent.Header.Hash.ToString(), again.Result().GetProperty("payloadStatus").GetProperty("latestValidHash").GetString());
        Assert.False(node.Host.Store.HasBlock(bad.Header.Hash));
    }

    private static string ForkchoiceMethod(Core.Blocks.Block block) =>
        block.Header.ParentBeaconBlockRoot is not null ? "engine_forkchoiceUpdatedV3" : "engine_forkchoiceUpdatedV2";

    /// <summary>Flips the lowest bit of the last hex digit of a field (the first element for arrays).</summary>
    private static void Flip(JsonObject payload, string field)
    {
        switch (payload[field])
        {
            case JsonArray { Count: > 0 } array when array[0] is JsonObject withdrawal:
                withdrawal["amount"] = FlipHex(withdrawal["amount"]!.GetValue<string>());
                break;
            case JsonArray { Count: > 0 } array:
                array[0] = FlipHex(array[0]!.GetValue<string>());
                break;
            case JsonValue value:
                payload[field] = FlipHex(value.GetValue<string>());
                break;
            default:
                throw new InvalidOperationException($"block has no {field} to change");
        }
    }

    private static string FlipHex(string hex)
    {
        if (hex == "0x")
        {
            return "0x01"; // empty data: one byte more is the smallest change
        }
        var last = Convert.ToInt32(hex[^1].ToString(), 16) ^ 1;
        return hex[..^1] + last.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
    }

}

using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Rlp;
using EngineSkeleton.Testing.Chains;

namespace EngineSkeleton.Testing.Rpc;

/// <summary>How a <see cref="FakeRpcNode"/> misbehaves. Set on the node; read once per HTTP request.</summary>
public sealed record RpcFaults
{
    public static readonly RpcFaults None = new();

    /// <summary>The block JSON at this number claims a hash its fields do not hash to.</summary>
    public ulong? WrongHashAt { get; init; }

    /// <summary>Asked for this number (raw or JSON), the node answers with the block below it.</summary>
    public ulong? WrongNumberAt { get; init; }

    /// <summary>The header at this number is served altered (extraData changed, re-hashed): self-consistent, unlinked.</summary>
    public ulong? ChangedAt { get; init; }

    /// <summary>Raw headers and blocks at this number are served as bytes that are not RLP.</summary>
    public ulong? UndecodableAt { get; init; }

    /// <summary>Asked for the block with any hash, answers with this block instead.</summary>
    public ulong? AnyHashAnswersBlock { get; init; }

    /// <summary>debug_getRawBlock at any number answers with this block instead.</summary>
    public ulong? RawBlockAnswersBlock { get; init; }

    /// <summary>Full transactions of the block at this number claim hashes their fields do not hash to.</summary>
    public ulong? WrongTransactionHashAt { get; init; }

    /// <summary>The last answer of every batch is left out.</summary>
    public bool TruncateBatch { get; init; }

    /// <summary>Answers come in reverse order (legal in JSON-RPC: they are matched by id).</summary>
    public bool ReverseOrder { get; init; }

    /// <summary>The HTTP body is not JSON.</summary>
    public bool Garbage { get; init; }

    /// <summary>A batch is answered with one error object, as a node refusing batches would.</summary>
    public bool RefuseBatch { get; init; }

    /// <summary>Every request gets this HTTP status with an empty body.</summary>
    public HttpStatusCode? Status { get; init; }

    /// <summary>Requests are accepted and never answered; they end only when the client cancels them.</summary>
    public bool Stall { get; init; }
}

/// <summary>
/// A JSON-RPC node in a message handler, serving the execution-apis chain (or any chain of blocks indexed by
/// number) as a real node would: eth_getBlockByNumber/eth_getBlockByHash with header fields and transaction
/// hashes, and, when <see cref="ServesDebug"/>, debug_getRawHeader/debug_getRawBlock by number only, answering
/// -32602 past its head as ethereumjs does. Hardhat-like without: -32601 for every debug_ method.
/// </summary>
public sealed class FakeRpcNode : HttpMessageHandler
{
    private readonly IReadOnlyList<Block> _chain;
    private readonly Dictionary<Hash256, ulong> _numbers = [];
    private readonly Lock _lock = new();
    private TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _requests;

    public FakeRpcNode(IReadOnlyList<Block> chain, bool servesDebug)
    {
        _chain = chain;
        ServesDebug = servesDebug;
        Head = (ulong)chain.Count - 1;
        for (var i = 0; i < chain.Count; i++)
        {
            _numbers[chain[i].Hash] = (ulong)i;
        }
    }

    /// <summary>The execution-apis chain, blocks 0..54.</summary>
    public static IReadOnlyList<Block> ExecutionApis { get; } =
        [.. Enumerable.Range(0, ExecutionApisChain.Blocks.Count + 1).Select(n => ExecutionApisChain.At((ulong)n))];

    public bool ServesDebug { get; }

    /// <summary>The highest block the node has; set it lower to make a node that is behind.</summary>
    public ulong Head { get; set; }

    public RpcFaults Faults { get; set; } = RpcFaults.None;

    /// <summary>HTTP requests received so far.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Methods of every call received, in order.</summary>
    public List<string> Calls { get; } = [];

    /// <summary>Completes when the next request arrives (after it has been counted).</summary>
    public Task NextRequest
    {
        get
        {
            lock (_lock)
            {
                return _entered.Task;
            }
        }
    }

    /// <summary>
    /// The block JSON a node writes for eth_getBlockBy*: header fields, hash, withdrawals, uncle hashes, and
    /// transaction hashes or (<paramref name="fullTransactions"/>) transaction objects.
    /// </summary>
    public static void WriteBlockJson(
        Utf8JsonWriter writer, Block block, Hash256? claimedHash = null, bool fullTransactions = false, bool wrongTransactionHashes = false)
    {
        var h = block.Header;
        writer.WriteStartObject();
        writer.WriteString("hash", (claimedHash ?? h.Hash).ToString());
        writer.WriteString("parentHash", h.ParentHash.ToString());
        writer.WriteString("sha3Uncles", h.OmmersHash.ToString());
        writer.WriteString("miner", h.Beneficiary.ToString());
        writer.WriteString("stateRoot", h.StateRoot.ToString());
        writer.WriteString("transactionsRoot", h.TransactionsRoot.ToString());
        writer.WriteString("receiptsRoot", h.ReceiptsRoot.ToString());
        writer.WriteString("logsBloom", Hex.Encode(h.LogsBloom));
        writer.WriteString("difficulty", Quantity(h.Difficulty.ToString("x", CultureInfo.InvariantCulture)));
        writer.WriteString("number", Quantity(h.Number));
        writer.WriteString("gasLimit", Quantity(h.GasLimit));
        writer.WriteString("gasUsed", Quantity(h.GasUsed));
        writer.WriteString("timestamp", Quantity(h.Timestamp));
        writer.WriteString("extraData", Hex.Encode(h.ExtraData));
        writer.WriteString("mixHash", h.MixHash.ToString());
        writer.WriteString("nonce", "0x" + h.Nonce.ToString("x16", CultureInfo.InvariantCulture));
        if (h.BaseFeePerGas is { } baseFee)
        {
            writer.WriteString("baseFeePerGas", Quantity(baseFee.ToString("x", CultureInfo.InvariantCulture)));
        }
        if (h.WithdrawalsRoot is { } withdrawalsRoot)
        {
            writer.WriteString("withdrawalsRoot", withdrawalsRoot.ToString());
        }
        if (h.BlobGasUsed is { } blobGasUsed)
        {
            writer.WriteString("blobGasUsed", Quantity(blobGasUsed));
            writer.WriteString("excessBlobGas", Quantity(h.ExcessBlobGas!.Value));
            writer.WriteString("parentBeaconBlockRoot", h.ParentBeaconBlockRoot!.Value.ToString());
        }
        if (h.RequestsHash is { } requestsHash)
        {
            writer.WriteString("requestsHash", requestsHash.ToString());
        }
        writer.WriteString("size", Quantity((ulong)block.Encode().Length));
        writer.WriteStartArray("transactions");
        foreach (var tx in block.Body.Transactions)
        {
            if (fullTransactions)
            {
                WriteTransactionJson(writer, tx, wrongTransactionHashes);
            }
            else
            {
                writer.WriteStringValue(Transactions.Hash(tx).ToString());
            }
        }
        writer.WriteEndArray();
        if (block.Body.Withdrawals is { } withdrawals)
        {
            writer.WriteStartArray("withdrawals");
            foreach (var w in withdrawals)
            {
                writer.WriteStartObject();
                writer.WriteString("index", Quantity(w.Index));
                writer.WriteString("validatorIndex", Quantity(w.ValidatorIndex));
                writer.WriteString("address", w.Address.ToString());
                writer.WriteString("amount", Quantity(w.AmountGwei));
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        }
        writer.WriteStartArray("uncles");
        foreach (var ommer in block.Body.Ommers)
        {
            writer.WriteStringValue(ommer.Hash.ToString());
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>A transaction object as eth_getBlockByHash(…, true) gives it, decoded from the canonical bytes.</summary>
    public static void WriteTransactionJson(Utf8JsonWriter writer, byte[] tx, bool wrongHash = false)
    {
        if (!Transactions.TryGetType(tx, out var type))
        {
            throw new ArgumentException("not a transaction the chain could hold", nameof(tx));
        }

        string[] names = type switch
        {
            0 => ["nonce", "gasPrice", "gas", "to", "value", "input", "v", "r", "s"],
            1 => ["chainId", "nonce", "gasPrice", "gas", "to", "value", "input", "accessList", "yParity", "r", "s"],
            2 => ["chainId", "nonce", "maxPriorityFeePerGas", "maxFeePerGas", "gas", "to", "value", "input", "accessList", "yParity", "r", "s"],
            3 => ["chainId", "nonce", "maxPriorityFeePerGas", "maxFeePerGas", "gas", "to", "value", "input", "accessList", "maxFeePerBlobGas", "blobVersionedHashes", "yParity", "r", "s"],
            _ => ["chainId", "nonce", "maxPriorityFeePerGas", "maxFeePerGas", "gas", "to", "value", "input", "accessList", "authorizationList", "yParity", "r", "s"],
        };
        var fields = new RlpReader(type == 0 ? tx : tx.AsSpan(1)).ReadList();
        writer.WriteStartObject();
        writer.WriteString("hash", wrongHash ? new Hash256(new byte[32]).ToString() : Transactions.Hash(tx).ToString());
        writer.WriteString("type", Quantity((ulong)type));
        foreach (var name in names)
        {
            switch (name)
            {
                case "to":
                    var to = fields.ReadBytes();
                    if (to.IsEmpty)
                    {
                        writer.WriteNull("to");
                    }
                    else
                    {
                        writer.WriteString("to", Hex.Encode(to));
                    }
                    break;
                case "input":
                    writer.WriteString("input", Hex.Encode(fields.ReadBytes()));
                    break;
                case "accessList":
                    writer.WriteStartArray("accessList");
                    var entries = fields.ReadList();
                    while (entries.HasMore)
                    {
                        var entry = entries.ReadList();
                        writer.WriteStartObject();
                        writer.WriteString("address", entry.ReadAddress().ToString());
                        writer.WriteStartArray("storageKeys");
                        var keys = entry.ReadList();
                        while (keys.HasMore)
                        {
                            writer.WriteStringValue(keys.ReadHash256().ToString());
                        }
                        writer.WriteEndArray();
                        writer.WriteEndObject();
                    }
                    writer.WriteEndArray();
                    break;
                case "blobVersionedHashes":
                    writer.WriteStartArray(name);
                    var hashes = fields.ReadList();
                    while (hashes.HasMore)
                    {
                        writer.WriteStringValue(hashes.ReadHash256().ToString());
                    }
                    writer.WriteEndArray();
                    break;
                case "authorizationList":
                    writer.WriteStartArray(name);
                    var tuples = fields.ReadList();
                    while (tuples.HasMore)
                    {
                        var tuple = tuples.ReadList();
                        writer.WriteStartObject();
                        writer.WriteString("chainId", Quantity(tuple.ReadBigInteger()));
                        writer.WriteString("address", tuple.ReadAddress().ToString());
                        writer.WriteString("nonce", Quantity(tuple.ReadBigInteger()));
                        writer.WriteString("yParity", Quantity(tuple.ReadBigInteger()));
                        writer.WriteString("r", Quantity(tuple.ReadBigInteger()));
                        writer.WriteString("s", Quantity(tuple.ReadBigInteger()));
                        writer.WriteEndObject();
                    }
                    writer.WriteEndArray();
                    break;
                case "yParity":
                    // geth writes v beside yParity for typed transactions; the peer must prefer yParity.
                    var parity = Quantity(fields.ReadBigInteger());
                    writer.WriteString("yParity", parity);
                    writer.WriteString("v", parity);
                    break;
                default:
                    writer.WriteString(name, Quantity(fields.ReadBigInteger()));
                    break;
            }
        }
        if (fields.HasMore)
        {
            throw new ArgumentException("the transaction has more fields than its type names", nameof(tx));
        }

        writer.WriteEndObject();
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var faults = Faults;
        using var body = JsonDocument.Parse(await request.Content!.ReadAsByteArrayAsync(cancellationToken));
        TaskCompletionSource entered;
        lock (_lock)
        {
            _requests++;
            foreach (var call in body.RootElement.EnumerateArray())
            {
                Calls.Add(call.GetProperty("method").GetString()!);
            }
            entered = _entered;
            _entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        entered.SetResult();

        if (faults.Stall)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        if (faults.Status is { } status)
        {
            return new HttpResponseMessage(status) { Content = new ByteArrayContent([]) };
        }
        if (faults.Garbage)
        {
            return Json("{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":[\"0x"u8.ToArray());
        }
        using var output = new MemoryStream();
        using (var writer = new Utf8JsonWriter(output))
        {
            if (faults.RefuseBatch)
            {
                writer.WriteStartObject();
                writer.WriteString("jsonrpc", "2.0");
                writer.WriteNull("id");
                WriteError(writer, -32600, "batch requests are not supported");
                writer.WriteEndObject();
            }
            else
            {
                var calls = body.RootElement.EnumerateArray().ToList();
                if (faults.ReverseOrder)
                {
                    calls.Reverse();
                }
                if (faults.TruncateBatch)
                {
                    calls.RemoveAt(calls.Count - 1);
                }
                writer.WriteStartArray();
                foreach (var call in calls)
                {
                    Answer(writer, call, faults);
                }
                writer.WriteEndArray();
            }
        }
        return Json(output.ToArray());
    }

    private static HttpResponseMessage Json(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        return new HttpResponseMessage(HttpStatusCode.OK) { Content = content };
    }

    private static string Quantity(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);

    private static string Quantity(System.Numerics.BigInteger value) => Quantity(value.ToString("x", CultureInfo.InvariantCulture));

    private static string Quantity(string hexDigits) => "0x" + (hexDigits.TrimStart('0') is { Length: > 0 } trimmed ? trimmed : "0");

    private static void WriteError(Utf8JsonWriter writer, int code, string message)
    {
        writer.WriteStartObject("error");
        writer.WriteNumber("code", code);
        writer.WriteString("message", message);
        writer.WriteEndObject();
    }

    private void Answer(Utf8JsonWriter writer, JsonElement call, RpcFaults faults)
    {
        writer.WriteStartObject();
        writer.WriteString("jsonrpc", "2.0");
        writer.WritePropertyName("id");
        call.GetProperty("id").WriteTo(writer);
        var method = call.GetProperty("method").GetString()!;
        var parameters = call.GetProperty("params");
        if (parameters.GetArrayLength() == 0)
        {
            // A method without parameters (eth_chainId): not one a fake of block queries serves.
            WriteError(writer, -32601, $"the method {method} does not exist/is not available");
            writer.WriteEndObject();
            return;
        }
        var param = parameters[0].GetString()!;
        var full = parameters.GetArrayLength() > 1 && parameters[1].ValueKind == JsonValueKind.True;
        switch (method)
        {
            case "eth_getBlockByNumber":
                WriteBlockOrNull(writer, NumberOf(param), faults, byHash: false, full);
                break;
            case "eth_getBlockByHash":
                WriteBlockOrNull(writer, _numbers.TryGetValue(Hash256.FromHex(param), out var n) ? n : null, faults, byHash: true, full);
                break;
            case "eth_getUncleByBlockHashAndIndex":
                var index = int.Parse(parameters[1].GetString()!.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
                if (_numbers.TryGetValue(Hash256.FromHex(param), out var parent) && index < _chain[(int)parent].Body.Ommers.Count)
                {
                    writer.WritePropertyName("result");
                    WriteBlockJson(writer, new Block(_chain[(int)parent].Body.Ommers[index], BlockBody.Empty));
                }
                else
                {
                    writer.WriteNull("result");
                }
                break;
            case "debug_getRawHeader" or "debug_getRawBlock" when !ServesDebug:
                WriteError(writer, -32601, $"the method {method} does not exist/is not available");
                break;
            case "debug_getRawHeader" or "debug_getRawBlock":
                if (NumberOf(param) is not { } number)
                {
                    WriteError(writer, -32602, "specified block greater than current height");
                    break;
                }
                var block = Served(number, faults);
                if (method == "debug_getRawBlock" && faults.RawBlockAnswersBlock is { } other)
                {
                    block = _chain[(int)other];
                }
                var bytes = faults.UndecodableAt == number ? [0xc1, 0xff, 0x00]
                    : method == "debug_getRawHeader" ? block.Header.Encode() : block.Encode();
                writer.WriteString("result", Hex.Encode(bytes));
                break;
            default:
                WriteError(writer, -32601, $"the method {method} does not exist/is not available");
                break;
        }
        writer.WriteEndObject();
    }

    private ulong? NumberOf(string quantity)
    {
        var number = ulong.Parse(quantity.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        return number <= Head ? number : null;
    }

    /// <summary>The block the node serves at a number, faults applied.</summary>
    private Block Served(ulong number, RpcFaults faults)
    {
        if (faults.WrongNumberAt == number && number > 0)
        {
            return _chain[(int)number - 1];
        }
        var block = _chain[(int)number];
        if (faults.ChangedAt == number)
        {
            block = block with { Header = block.Header with { ExtraData = [.. block.Header.ExtraData, 0x42] } };
        }
        return block;
    }

    private void WriteBlockOrNull(Utf8JsonWriter writer, ulong? number, RpcFaults faults, bool byHash, bool full)
    {
        if (byHash && number is not null && faults.AnyHashAnswersBlock is { } substitute)
        {
            number = substitute;
        }
        if (number is not { } n)
        {
            writer.WriteNull("result");
            return;
        }
        writer.WritePropertyName("result");
        var block = Served(n, faults);
        Hash256? claimed = faults.WrongHashAt == n ? new Hash256(Encoding.ASCII.GetBytes("a hash these fields do not have!")) : null;
        WriteBlockJson(writer, block, claimed, full, faults.WrongTransactionHashAt == n);
    }
}

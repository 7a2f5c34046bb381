using System.Buffers.Text;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Core.Payloads;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Rlp;
using EngineSkeleton.Fuzz.Targets;
using EngineSkeleton.Network.DevP2p.Eth;
using EngineSkeleton.Network.DevP2p.Rlpx;
using EngineSkeleton.Network.Discovery.Enr;
using EngineSkeleton.Network.Discovery.V4;
using Snappier;

namespace EngineSkeleton.Fuzz;

/// <summary>
/// Writes the committed seed corpus (corpus/&lt;target&gt;/): small real inputs, from the execution-apis test chain
/// (tests/testdata/execution-apis/chain.rlp, CC0) and from our own encoders, plus the published example vectors of the
/// specs (EIP-778's ENR, EIP-1459's tree entries). Deterministic except where a protocol wants fresh randomness (ECIES);
/// rerun by <c>dotnet run --project tests/EngineSkeleton.Fuzz -- seed tests/EngineSkeleton.Fuzz/corpus chain.rlp</c>.
/// </summary>
internal static class SeedCorpus
{
    private static readonly NodeKey Key = NodeKey.FromBytes(Convert.FromHexString("b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291"));

    public static void Write(string root, string chainRlp)
    {
        var blocks = Block.DecodeConcatenated(File.ReadAllBytes(chainRlp));
        // One block of each header shape (15/16/17/20/21 fields) and each transaction type present.
        var byShape = blocks.GroupBy(b => FieldCount(b.Header)).Select(g => g.First()).ToList();
        var withTxs = blocks.Where(b => b.Body.Transactions.Count > 0).ToList();
        var txsByType = blocks.SelectMany(b => b.Body.Transactions)
            .GroupBy(t => Transactions.TryGetType(t, out var type) ? type : (byte)0xff).Select(g => g.First()).ToList();

        var files = new Dictionary<string, byte[]>();
        void Add(string target, string name, byte[] bytes) => files[Path.Combine(target, name)] = bytes;

        // rlp: the edges of the prefix table, and real nested data.
        Add("rlp", "empty-string", [0x80]);
        Add("rlp", "single-byte", [0x7f]);
        Add("rlp", "short-string", [0x83, (byte)'d', (byte)'o', (byte)'g']);
        Add("rlp", "long-string", RlpWriter.EncodeBytes(new byte[56]));
        Add("rlp", "nested-lists", [0xc7, 0xc0, 0xc1, 0xc0, 0xc3, 0xc0, 0xc1, 0xc0]);
        Add("rlp", "uint64-max", RlpWriter.EncodeUInt64(ulong.MaxValue));
        Add("rlp", "header", byShape[^1].Header.Encode());

        foreach (var block in byShape)
        {
            var shape = FieldCount(block.Header);
            Add("header", $"fields-{shape}-block-{block.Header.Number}", block.Header.Encode());
            Add("block", $"fields-{shape}-block-{block.Header.Number}", block.Encode());
        }
        Add("block", "concatenated-1-2", [.. blocks[0].Encode(), .. blocks[1].Encode()]);
        foreach (var block in withTxs.Take(3).Append(withTxs[^1]).Distinct())
        {
            Add("body", $"block-{block.Header.Number}", block.Body.Encode());
        }
        Add("body", "empty-with-withdrawals", new BlockBody([], [], [new Withdrawal(1, 2, Address.Zero, 3)]).Encode());
        Add("body", "empty", BlockBody.Empty.Encode());
        foreach (var tx in txsByType)
        {
            Transactions.TryGetType(tx, out var type);
            Add("transaction", $"type-{type}", tx);
        }

        // JSON-RPC bodies.
        Add("rpc-request", "call", Utf8("""{"jsonrpc":"2.0","id":1,"method":"engine_exchangeCapabilities","params":[["engine_newPayloadV3"]]}"""));
        Add("rpc-request", "batch", Utf8("""[{"jsonrpc":"2.0","id":"a","method":"eth_blockNumber"},{"jsonrpc":"2.0","method":"eth_blockNumber","params":null},{"jsonrpc":"2.0","id":1.5,"method":"nope"}]"""));
        Add("rpc-request", "too-many-params", Utf8("""{"jsonrpc":"2.0","id":18446744073709551616,"method":"engine_forkchoiceUpdatedV3","params":[{},{},{}]}"""));
        Add("rpc-request", "bad-id", Utf8("""{"jsonrpc":"2.0","id":{"x":1},"method":"eth_blockNumber"}"""));
        Add("rpc-request", "escaped-method", Utf8("""{"jsonrpc":"2.0","id":null,"method":"eth_block\u004eumber","params":{}}"""));

        // Payloads: the chain's post-merge blocks in each shape (byte 0 picks it; bit 7 adds a requests hash).
        foreach (var block in blocks.Where(b => b.Header.Difficulty.IsZero).GroupBy(FieldCount).Select(g => g.Last()))
        {
            var payload = PayloadConverter.FromBlock(block);
            var shape = block.Header.WithdrawalsRoot is null ? 0 : block.Header.BlobGasUsed is null ? 1 : block.Header.RequestsHash is null ? 2 : 0x82;
            Add("payload-json", $"shape-{shape:x2}-block-{block.Header.Number}", [(byte)shape, .. Utf8(PayloadText(payload))]);
        }

        // JWT: tokens the validator accepts and refuses, as Authorization header values and as header/claims pairs.
        var iat = ServerTargets.Now.ToUnixTimeSeconds();
        Add("jwt", "valid", Utf8("Bearer " + Token("""{"alg":"HS256","typ":"JWT"}""", $$"""{"iat":{{iat}}}""")));
        Add("jwt", "stale", Utf8("Bearer " + Token("""{"alg":"HS256","typ":"JWT"}""", $$"""{"iat":{{iat - 61}},"exp":{{iat + 5}}}""")));
        Add("jwt", "alg-none", Utf8("Bearer " + Token("""{"alg":"none"}""", $$"""{"iat":{{iat}}}""")[..^43]));
        Add("jwt", "no-scheme", Utf8("Basic dXNlcjpwYXNz"));
        Add("jwt-signed", "valid", Utf8($$"""{"alg":"HS256","typ":"JWT"}""" + "\0" + $$"""{"iat":{{iat}},"exp":{{iat + 60}},"id":"cl"}"""));
        Add("jwt-signed", "fractional-iat", Utf8($$"""{"alg":"HS256"}""" + "\0" + $$"""{"iat":{{iat}}.75}"""));
        Add("jwt-signed", "string-iat", Utf8($$"""{"alg":"HS256"}""" + "\0" + $$"""{"iat":"{{iat}}"}"""));

        // eth: byte 0 even = eth/68, odd = eth/69; byte 1 the code.
        var a = Keccak(1);
        var b = Keccak(2);
        var txs = txsByType.ToArray();
        EthMessage[] messages =
        [
            new StatusMessage68(68, 1, 17_179_869_184, b, a, new ForkId(0xfc64ec04, 1_150_000)),
            new GetBlockHeadersMessage(1, HeaderOrigin.ByNumber(100), 192, 0, false),
            new GetBlockHeadersMessage(2, HeaderOrigin.ByHash(a), 512, 7, true),
            new BlockHeadersMessage(3, [.. byShape.Select(x => x.Header)]),
            new GetBlockBodiesMessage(5, [a, b]),
            new BlockBodiesMessage(6, [.. withTxs.Take(2).Select(x => x.Body)]),
            new TransactionsMessage(txs),
            new NewPooledTransactionHashesMessage([0x00, 0x03], [120, 131_072], [a, b]),
            new PooledTransactionsMessage(8, txs),
            new ReceiptsMessage(11, [[0xc0], [0xc3, 0x01, 0x02, 0x03]]),
            new NewBlockHashesMessage([new(a, 1), new(b, 1_000_000_000)]),
        ];
        foreach (var message in messages)
        {
            Add("eth", $"eth68-{message.Name}-{message.Code:x2}", [68, message.Code, .. message.Encode()]);
        }
        var status69 = new StatusMessage69(69, 560_048, a, new ForkId(0x23aa1351, 0), new BlockRange(0, 1_000_000, b));
        Add("eth", "eth69-Status", [69, status69.Code, .. status69.Encode()]);
        var range = new BlockRangeUpdateMessage(new BlockRange(15_537_394, ulong.MaxValue, b));
        Add("eth", "eth69-BlockRangeUpdate", [69, range.Code, .. range.Encode()]);

        // RLPx: message frames (byte 0 bit 0 = Snappy), handshake bodies and sealed packets to the targets' key.
        var hello = new Hello { ClientId = "EngineSkeleton/fuzz", Capabilities = [new Capability("eth", 68), new Capability("eth", 69)], NodeId = Key.Id }.Encode();
        Add("rlpx-message", "hello", [0, 0x80, .. hello]);
        Add("rlpx-message", "disconnect-snappy", [1, 0x01, .. Snappy.CompressToArray(P2pMessages.EncodeDisconnect(DisconnectReason.TooManyPeers))]);
        Add("rlpx-message", "disconnect-bare", [1, 0x01, 0xc1, 0x04]);
        Add("rlpx-message", "ping-snappy", [1, 0x02, .. Snappy.CompressToArray([0xc0])]);
        Add("rlpx-message", "status-snappy", [1, 0x10, .. Snappy.CompressToArray(status69.Encode())]);
        var signature = new byte[65];
        signature[64] = 1;
        var auth = new AuthMessage(signature, Key.Id, a, AuthMessage.CurrentVersion, IsEip8: true);
        var ack = new AckMessage(Key.Id, b, AckMessage.CurrentVersion, IsEip8: true);
        Add("rlpx-auth", "auth-eip8", [1, .. auth.EncodeEip8(), .. new byte[100]]);
        Add("rlpx-auth", "ack-eip8", [1, .. ack.EncodeEip8(), .. new byte[100]]);
        Add("rlpx-auth", "ack-plain", [0, .. ack.EncodePlain()]);
        var plainAuth = new byte[AuthMessage.PlainSize];
        signature.CopyTo(plainAuth, 0);
        Add("rlpx-auth", "auth-plain", [0, .. plainAuth]);
        var publicKey = Key.PrivateKey.CreatePubKey();
        Add("rlpx-handshake", "auth-eip8", [0, .. RlpxHandshake.SealEip8(auth.EncodeEip8(), publicKey)]);
        Add("rlpx-handshake", "ack-eip8", [1, .. RlpxHandshake.SealEip8(ack.EncodeEip8(), publicKey)]);
        Add("rlpx-handshake", "auth-plain", [0, .. Ecies.Encrypt(publicKey, plainAuth, [])]);
        Add("rlpx-handshake", "ack-plain", [1, .. Ecies.Encrypt(publicKey, ack.EncodePlain(), [])]);

        // discv4: whole packets, and their type || data for the signing target. Expirations after the targets' "now".
        var expires = (ulong)ServerTargets.Now.ToUnixTimeSeconds() + 20;
        var here = new V4Endpoint(IPAddress.Loopback, 30303, 30303);
        var there = new V4Endpoint(IPAddress.IPv6Loopback, 30304, 0);
        var localEnr = new LocalEnr(Key, 7);
        V4Message[] packets =
        [
            new PingMessage(4, here, there, expires, 7),
            new PongMessage(there, a, expires, null),
            new FindNodeMessage(Key.Id, expires),
            new NeighborsMessage([new V4Node(here, Key.Id), new V4Node(there, Key.Id)], expires),
            new EnrRequestMessage(expires),
            new EnrResponseMessage(b, localEnr.Record),
        ];
        foreach (var message in packets)
        {
            var packet = V4Codec.Encode(Key, message, out _);
            Add("discv4", message.GetType().Name, packet);
            Add("discv4-signed", message.GetType().Name, packet[97..]);
        }

        // ENR: EIP-778's example record (text and RLP) and one of ours.
        const string Example = "enr:-IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRcy5wBgmlkgnY0gmlwhH8AAAGJc2VjcDI1NmsxoQPKY0yuDUmstAHYpMa2_oxVtw0RW_QAdpzBQA8yWM0xOIN1ZHCCdl8";
        Add("enr", "eip778-text", Utf8(Example));
        Add("enr", "eip778-rlp", Base64Url.DecodeFromChars(Example.AsSpan(4)));
        Add("enr", "local-text", Utf8(localEnr.Record.ToString()));

        // DNS: EIP-1459's example entries.
        Add("dns", "root", Utf8("enrtree-root:v1 e=JWXYDBPXYWG6FX3GMDIBFA6CJ4 l=C7HRFPF3BLGF3YR4DY5KX3SMBE seq=1 sig=o908WmNp7LibOfPsr4btQwatZJ5URBr2ZAuxvK4UWHlsB9sUOTJQaGAlLPVAhM__XJesCHxLISo94z5Z2a463gA"));
        Add("dns", "branch", Utf8("enrtree-branch:2XS2367YHAXJFGLZHVAWLQD4ZY,H4FHT4B454P6UXFD7JCYQ5PWDY,MHTDO6TMUBRIA2XWG5LUDACK24"));
        Add("dns", "link", Utf8("enrtree://AM5FCQLWIZX2QFPNJAP7VUERCCRNGRHWZG3YYHIUV7BVDQ5FDPRT2@morenodes.localhost"));
        Add("dns", "enr", Utf8("enr:-HW4QOFzoVLaFJnNhbgMoDXPnOvcdVuj7pDpqRvh6BRDO68aVi5ZcjB3vzQRZH2IcLBGHzo8uUN3snqmgTiE56CH3AMBgmlkgnY0iXNlY3AyNTZrMaECC2_24YYkYHEgdzxlSNKQEnHhuNAbNlMlWJxrJxbAFvA"));

        // JSON-RPC peer answers: byte 0 + 1 is the number of calls in the batch.
        var postMerge = blocks[^1];
        var rawHeader = $$"""{"jsonrpc":"2.0","id":0,"result":"{{Hex.Encode(postMerge.Header.Encode())}}"}""";
        var blockObject = JsonSerializer.Serialize(EngineSkeleton.Server.Eth.BlockJson.From(postMerge));
        var preMergeObject = JsonSerializer.Serialize(EngineSkeleton.Server.Eth.BlockJson.From(blocks[3]));
        Add("rpc-peer", "raw-header", [0, .. Utf8($"[{rawHeader}]")]);
        Add("rpc-peer", "block-objects", [2, .. Utf8($$"""[{"jsonrpc":"2.0","id":1,"result":{{preMergeObject}}},{"jsonrpc":"2.0","id":0,"result":{{blockObject}}},{"jsonrpc":"2.0","id":2,"result":null}]""")]);
        Add("rpc-peer", "errors", [1, .. Utf8("""[{"jsonrpc":"2.0","id":0,"error":{"code":-32601,"message":"the method does not exist"}},{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"specified block greater than current height"}}]""")]);

        // The same answers streamed: byte 0 is the calls (1 + bits 0-1), the read size (bits 2-3) and, in bit 7, whether
        // the first buffer ends inside the answer, at byte 1's share of it. A third are cut so: each costs a megabyte.
        var blockObjects = files[Path.Combine("rpc-peer", "block-objects")][1..];
        Add("rpc-stream", "raw-header", [0b0000_0000, 0, .. Utf8($"[{rawHeader}]")]);
        Add("rpc-stream", "block-objects", [0b0000_1010, 0, .. blockObjects]);
        Add("rpc-stream", "errors", [0b0000_0101, 0, .. files[Path.Combine("rpc-peer", "errors")][1..]]);
        Add("rpc-stream", "block-objects-cut", [0b1000_1110, 200, .. blockObjects]);
        Add("rpc-stream", "refused", [0b0000_0000, 0, .. Utf8("""{"jsonrpc":"2.0","id":null,"error":{"code":-32005,"message":"batch limit exceeded"}}""")]);
        Add("rpc-stream", "out-of-order-cut", [0b1000_0110, 100, .. Utf8("""[{"jsonrpc":"2.0","id":2,"result":null},{"jsonrpc":"2.0","id":0,"result":"0x00"},{"jsonrpc":"2.0","id":1,"result":{"a":[1,2.5e3,"\u00e9é"]}}]""")]);

        foreach (var (path, bytes) in files)
        {
            var full = Path.Combine(root, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllBytes(full, bytes);
        }
        Console.WriteLine($"wrote {files.Count} seed files under {root}");
    }

    private static int FieldCount(Block block) => FieldCount(block.Header);

    private static int FieldCount(BlockHeader header) =>
        15 + (header.BaseFeePerGas is null ? 0 : 1) + (header.WithdrawalsRoot is null ? 0 : 1)
        + (header.BlobGasUsed is null ? 0 : 3) + (header.RequestsHash is null ? 0 : 1);

    private static Hash256 Keccak(byte b) => Core.Crypto.Keccak256.Hash([b]);

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    private static string Token(string header, string claims)
    {
        var signingInput = Base64Url.EncodeToString(Utf8(header)) + "." + Base64Url.EncodeToString(Utf8(claims));
        var secret = Convert.FromHexString("7365637265747365637265747365637265747365637265747365637265747365");
        return signingInput + "." + Base64Url.EncodeToString(HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(signingInput)));
    }

    private static string Q(ulong v) => "0x" + v.ToString("x", CultureInfo.InvariantCulture);

    private static string QBig(System.Numerics.BigInteger v) =>
        v.IsZero ? "0x0" : "0x" + v.ToString("x", CultureInfo.InvariantCulture).TrimStart('0');

    private static string PayloadText(ExecutionPayload p)
    {
        var sb = new StringBuilder("{");
        sb.Append(CultureInfo.InvariantCulture, $"\"parentHash\":\"{p.ParentHash}\",\"feeRecipient\":\"{p.FeeRecipient}\",\"stateRoot\":\"{p.StateRoot}\",");
        sb.Append(CultureInfo.InvariantCulture, $"\"receiptsRoot\":\"{p.ReceiptsRoot}\",\"logsBloom\":\"{Hex.Encode(p.LogsBloom)}\",\"prevRandao\":\"{p.PrevRandao}\",");
        sb.Append(CultureInfo.InvariantCulture, $"\"blockNumber\":\"{Q(p.BlockNumber)}\",\"gasLimit\":\"{Q(p.GasLimit)}\",\"gasUsed\":\"{Q(p.GasUsed)}\",\"timestamp\":\"{Q(p.Timestamp)}\",");
        sb.Append(CultureInfo.InvariantCulture, $"\"extraData\":\"{Hex.Encode(p.ExtraData)}\",\"baseFeePerGas\":\"{QBig(p.BaseFeePerGas)}\",\"blockHash\":\"{p.BlockHash}\",");
        sb.Append("\"transactions\":[").AppendJoin(',', p.Transactions.Select(t => $"\"{Hex.Encode(t)}\"")).Append(']');
        if (p.Withdrawals is { } withdrawals)
        {
            sb.Append(",\"withdrawals\":[").AppendJoin(',', withdrawals.Select(w =>
                $"{{\"index\":\"{Q(w.Index)}\",\"validatorIndex\":\"{Q(w.ValidatorIndex)}\",\"address\":\"{w.Address}\",\"amount\":\"{Q(w.AmountGwei)}\"}}")).Append(']');
        }
        if (p.BlobGasUsed is { } used)
        {
            sb.Append(CultureInfo.InvariantCulture, $",\"blobGasUsed\":\"{Q(used)}\",\"excessBlobGas\":\"{Q(p.ExcessBlobGas ?? 0)}\"");
        }
        return sb.Append('}').ToString();
    }
}

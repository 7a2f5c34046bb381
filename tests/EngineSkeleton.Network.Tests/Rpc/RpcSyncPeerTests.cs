using System.Net;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Network.Rpc;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Testing.Net;
using EngineSkeleton.Testing.Rpc;
using Microsoft.Extensions.Time.Testing;

namespace EngineSkeleton.Network.Tests.Rpc;

public sealed class RpcSyncPeerTests
{
    /// <summary>A guard against a hung test, never a timing assertion: every await is bounded by it.</summary>
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(30);

    private static readonly IReadOnlyList<Block> Chain = FakeRpcNode.ExecutionApis;

    private static readonly ulong Head = (ulong)Chain.Count - 1;

    /// <summary>Faults tests retry at once, so the fake clock only has to move for timeouts and the breaker.</summary>
    private static readonly RpcSyncPeerOptions NoRetryDelay = new() { RetryDelay = TimeSpan.Zero };

    public enum Mode
    {
        /// <summary>Serves debug_getRawHeader/debug_getRawBlock by number, as ethereumjs does.</summary>
        Raw,

        /// <summary>Serves no debug_ methods, as hardhat does: headers are rebuilt from JSON.</summary>
        Json,
    }

    public static TheoryData<ulong> AllNumbers()
    {
        var numbers = new TheoryData<ulong>();
        for (var n = 0UL; n <= Head; n++)
        {
            numbers.Add(n);
        }
        return numbers;
    }

    [Theory]
    [MemberData(nameof(AllNumbers))]
    public async Task Every_header_of_the_chain_rebuilt_from_JSON_hashes_to_the_real_hash(ulong number)
    {
        var (peer, _, http) = Peer(Mode.Json);
        using var client = http;
        var expected = Chain[(int)number].Header;

        var header = await peer.GetHeaderByHashAsync(expected.Hash, CancellationToken.None).WaitAsync(Hang);

        Assert.NotNull(header);
        Assert.Equal(expected, header);
        Assert.Equal(expected.Hash, header.Hash);
    }

    [Theory]
    [InlineData(Mode.Raw)]
    [InlineData(Mode.Json)]
    public async Task The_whole_chain_comes_back_newest_first_in_both_modes_and_every_header_shape(Mode mode)
    {
        var (peer, node, http) = Peer(mode);
        using var client = http;

        var headers = await peer.GetHeadersReverseAsync(Head, 512, CancellationToken.None).WaitAsync(Hang);

        Assert.Equal(Chain.Reverse().Select(b => b.Header), headers);
        Assert.Equal(Chain.Reverse().Select(b => b.Hash), headers.Select(h => h.Hash));
        Assert.Equal(new RpcNodeCapabilities(mode == Mode.Raw, mode == Mode.Raw), peer.Capabilities);
        Assert.Equal(mode == Mode.Raw ? 55 : 0, node.Calls.Count(c => c == "debug_getRawHeader") - 1);
    }

    public static TheoryData<string, Mode, ulong, int, int, ulong, int, int> HonestAnswers => new()
    {
        // proves, mode, origin, count, batch size, node head, expected headers, expected HTTP requests (probe included)
        { "a raw range within one batch costs the probe and one request", Mode.Raw, 50, 20, 128, Head, 20, 2 },
        { "a JSON range within one batch costs the probe and one request", Mode.Json, 50, 20, 128, Head, 20, 2 },
        { "a raw range splits into batches of the configured size and links across the seams", Mode.Raw, 54, 50, 7, Head, 50, 9 },
        { "a JSON range splits into batches of the configured size and links across the seams", Mode.Json, 54, 50, 7, Head, 50, 9 },
        { "a range reaching past the genesis stops at the genesis", Mode.Raw, 10, 512, 128, Head, 11, 2 },
        { "asking for none gets none and asks the node nothing", Mode.Raw, 54, 0, 128, Head, 0, 0 },
        { "a raw origin beyond the node's head (-32602, as ethereumjs answers) gets nothing", Mode.Raw, 54, 10, 128, 40, 0, 2 },
        { "a JSON origin beyond the node's head (null) gets nothing", Mode.Json, 54, 10, 128, 40, 0, 2 },
        { "a range straddling the head answers nothing: its origin is unknown", Mode.Raw, 45, 10, 128, 40, 0, 2 },
        { "a JSON range down to the genesis in small batches ends exactly at block 0", Mode.Json, 40, 41, 5, 40, 41, 10 },
    };

    [Theory]
    [MemberData(nameof(HonestAnswers))]
    public async Task An_honest_node_is_asked_in_batches_and_answered_in_full(
        string proves, Mode mode, ulong origin, int count, int batchSize, ulong nodeHead, int expected, int requests)
    {
        Assert.NotEmpty(proves);
        var (peer, node, http) = Peer(mode, new RpcSyncPeerOptions { BatchSize = batchSize });
        using var client = http;
        node.Head = nodeHead;

        var headers = await peer.GetHeadersReverseAsync(origin, count, CancellationToken.None).WaitAsync(Hang);

        Assert.Equal(expected, headers.Count);
        for (var i = 0; i < headers.Count; i++)
        {
            Assert.Equal(Chain[(int)origin - i].Header, headers[i]);
        }
        Assert.Equal(requests, node.Requests);
    }

    [Theory]
    [InlineData(Mode.Raw)]
    [InlineData(Mode.Json)]
    public async Task Answers_in_any_order_are_matched_to_their_calls_by_id(Mode mode)
    {
        var (peer, node, http) = Peer(mode);
        using var client = http;
        node.Faults = new RpcFaults { ReverseOrder = true };

        var headers = await peer.GetHeadersReverseAsync(30, 31, CancellationToken.None).WaitAsync(Hang);

        Assert.Equal(Chain.Take(31).Reverse().Select(b => b.Header), headers);
    }

    [Fact]
    public async Task The_node_is_probed_once_and_remembered()
    {
        var (peer, node, http) = Peer(Mode.Raw);
        using var client = http;

        await peer.GetHeadersReverseAsync(54, 5, CancellationToken.None).WaitAsync(Hang);
        await peer.GetHeadersReverseAsync(20, 5, CancellationToken.None).WaitAsync(Hang);
        await peer.GetBodiesAsync([Chain[3].Hash], CancellationToken.None).WaitAsync(Hang);

        Assert.Equal(1, node.Calls.Count(c => c == "debug_getRawBlock") - 1);
        Assert.Equal(["eth_getBlockByNumber", "debug_getRawHeader", "debug_getRawBlock"], node.Calls.Take(3));
        Assert.Equal(1 + 1 + 1 + 2, node.Requests);
    }

    public static TheoryData<string, Mode, RpcFaults, string> LyingNodes => new()
    {
        // proves, mode, fault, what the PeerException says
        { "JSON fields that do not hash to the hash the node claims are caught", Mode.Json, new RpcFaults { WrongHashAt = 36 }, "rebuilt header hash mismatch" },
        { "a raw header with another number is caught", Mode.Raw, new RpcFaults { WrongNumberAt = 40 }, "asked for header #40, got #39" },
        { "a JSON block with another number is caught", Mode.Json, new RpcFaults { WrongNumberAt = 40 }, "asked for header #40, got #39" },
        { "a self-consistent raw header that its child does not link to is caught", Mode.Raw, new RpcFaults { ChangedAt = 45 }, "header #46 does not link to #45" },
        { "a self-consistent JSON header that its child does not link to is caught", Mode.Json, new RpcFaults { ChangedAt = 3 }, "header #4 does not link to #3" },
        { "raw bytes that are not a header are caught", Mode.Raw, new RpcFaults { UndecodableAt = 50 }, "raw header #50 does not decode" },
        { "a batch with an answer missing is caught", Mode.Raw, new RpcFaults { TruncateBatch = true }, "truncated batch: 54 of 55" },
        { "an HTTP body that is not JSON is caught", Mode.Json, new RpcFaults { Garbage = true }, "garbage JSON" },
        { "a batch answered with one error object is caught", Mode.Json, new RpcFaults { RefuseBatch = true }, "batch refused: -32600" },
        { "an HTTP 404 is not retried: it is the node's answer", Mode.Raw, new RpcFaults { Status = HttpStatusCode.NotFound }, "HTTP 404" },
    };

    [Theory]
    [MemberData(nameof(LyingNodes))]
    public async Task A_node_that_lies_or_breaks_the_protocol_fails_the_request_with_a_peer_exception(
        string proves, Mode mode, RpcFaults fault, string reason)
    {
        Assert.NotEmpty(proves);
        var (peer, node, http) = await ProbedPeerAsync(mode, NoRetryDelay);
        using var client = http;
        var before = node.Requests;
        node.Faults = fault;

        var error = await Assert.ThrowsAsync<PeerException>(
            () => peer.GetHeadersReverseAsync(Head, 55, CancellationToken.None).WaitAsync(Hang));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.Equal(before + 1, node.Requests); // malformed answers are never retried
    }

    [Fact]
    public async Task An_answer_over_the_size_limit_is_not_read_to_the_end_nor_retried()
    {
        var (peer, node, http) = Peer(Mode.Json, NoRetryDelay with { MaxResponseBytes = 1024 });
        using var client = http;

        var error = await Assert.ThrowsAsync<PeerException>(
            () => peer.GetHeaderByHashAsync(Chain[54].Hash, CancellationToken.None).WaitAsync(Hang));

        Assert.Contains("over the 1024-byte limit", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, node.Requests);
    }

    [Theory]
    [InlineData("an answer of exactly the limit is read whole", 4096, true)]
    [InlineData("one byte more is refused", 4097, false)]
    [InlineData("a small answer grows the buffer from its first size without loss", 100, true)]
    [InlineData("a larger answer grows it several times", 40_000, true)]
    public async Task An_answer_without_a_length_is_read_to_the_limit_and_not_past_it(string proves, int size, bool read)
    {
        Assert.NotEmpty(proves);
        const string Answer = """[{"jsonrpc":"2.0","id":0,"result":null}]""";
        using var http = new HttpClient(new UnsizedAnswer(Answer.PadRight(Math.Max(size, Answer.Length)))) { Timeout = Timeout.InfiniteTimeSpan };
        var limit = Math.Max(size, 4096);
        var peer = new RpcSyncPeer(new Uri("http://127.0.0.1:8545"), http, NoRetryDelay with { MaxResponseBytes = size == 4097 ? 4096 : limit }, new FakeTimeProvider());

        var answer = peer.GetHeaderByHashAsync(Chain[54].Hash, CancellationToken.None).WaitAsync(Hang);

        if (read)
        {
            Assert.Null(await answer); // the whole padded answer parsed: the node lacks the block
        }
        else
        {
            var error = await Assert.ThrowsAsync<PeerException>(() => answer);
            Assert.Contains("over the 4096-byte limit", error.Message, StringComparison.Ordinal);
        }
    }

    /// <summary>A node that answers every request with the same body, sent without a Content-Length, in small pieces.</summary>
    private sealed class UnsizedAnswer(string body) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var content = new StreamContent(new ChunkedStream(System.Text.Encoding.UTF8.GetBytes(body), readSize: 1_000));
            Assert.Null(content.Headers.ContentLength);
            return Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = content });
        }
    }

    [Fact]
    public async Task An_HTTP_500_is_retried_twice_then_fails_the_request()
    {
        var (peer, node, http) = await ProbedPeerAsync(Mode.Raw, NoRetryDelay);
        using var client = http;
        node.Faults = new RpcFaults { Status = HttpStatusCode.InternalServerError };

        var error = await Assert.ThrowsAsync<PeerException>(
            () => peer.GetHeadersReverseAsync(Head, 10, CancellationToken.None).WaitAsync(Hang));

        Assert.Contains("HTTP 500", error.Message, StringComparison.Ordinal);
        Assert.Equal(2 + 3, node.Requests);
    }

    [Fact]
    public async Task A_stall_that_heals_before_the_last_retry_is_not_the_callers_problem()
    {
        var time = new FakeTimeProvider();
        var (peer, node, http) = await ProbedPeerAsync(Mode.Json, NoRetryDelay, time);
        using var client = http;
        node.Faults = new RpcFaults { Stall = true };

        var first = node.NextRequest;
        var pending = peer.GetHeadersReverseAsync(Head, 10, CancellationToken.None);
        await first.WaitAsync(Hang);
        var second = node.NextRequest;
        time.Advance(NoRetryDelay.RequestTimeout);
        await second.WaitAsync(Hang);
        node.Faults = RpcFaults.None;
        var third = node.NextRequest;
        time.Advance(NoRetryDelay.RequestTimeout);
        await third.WaitAsync(Hang);

        var headers = await pending.WaitAsync(Hang);
        Assert.Equal(10, headers.Count);
        Assert.Equal(2 + 3, node.Requests);
    }

    [Fact]
    public async Task A_node_that_stalls_beyond_the_timeout_on_every_attempt_fails_the_request()
    {
        var time = new FakeTimeProvider();
        var (peer, node, http) = await ProbedPeerAsync(Mode.Raw, NoRetryDelay, time);
        using var client = http;
        node.Faults = new RpcFaults { Stall = true };

        var entered = node.NextRequest;
        var pending = peer.GetHeadersReverseAsync(Head, 10, CancellationToken.None);
        for (var attempt = 0; attempt < 3; attempt++)
        {
            await entered.WaitAsync(Hang);
            entered = node.NextRequest;
            time.Advance(NoRetryDelay.RequestTimeout - TimeSpan.FromMilliseconds(1));
            Assert.False(pending.IsCompleted);
            time.Advance(TimeSpan.FromMilliseconds(1));
        }

        var error = await Assert.ThrowsAsync<PeerException>(() => pending.WaitAsync(Hang));
        Assert.Contains("no answer within 20 s (3 attempts)", error.Message, StringComparison.Ordinal);
        Assert.Equal(2 + 3, node.Requests);
    }

    [Fact]
    public async Task A_stalled_request_cancelled_by_the_caller_ends_in_cancellation_not_a_peer_exception()
    {
        var time = new FakeTimeProvider();
        var (peer, node, http) = await ProbedPeerAsync(Mode.Raw, NoRetryDelay, time);
        using var client = http;
        node.Faults = new RpcFaults { Stall = true };
        using var cancel = new CancellationTokenSource();

        var entered = node.NextRequest;
        var pending = peer.GetHeadersReverseAsync(Head, 10, cancel.Token);
        await entered.WaitAsync(Hang);
        await cancel.CancelAsync();

        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(Hang));
        Assert.IsNotType<PeerException>(error);
        Assert.Equal(2 + 1, node.Requests);
    }

    [Fact]
    public async Task A_dead_node_opens_the_circuit_which_refuses_requests_until_the_break_is_over()
    {
        var time = new FakeTimeProvider();
        var options = NoRetryDelay with { BreakerMinimumThroughput = 6, BreakerFailureRatio = 0.5 };
        var (peer, node, http) = await ProbedPeerAsync(Mode.Raw, options, time);
        using var client = http;
        node.Faults = new RpcFaults { Status = HttpStatusCode.BadGateway };

        for (var i = 0; i < 2; i++)
        {
            await Assert.ThrowsAsync<PeerException>(() => peer.GetHeadersReverseAsync(Head, 10, CancellationToken.None).WaitAsync(Hang));
        }
        var asked = node.Requests;
        var refused = await Assert.ThrowsAsync<PeerException>(
            () => peer.GetHeadersReverseAsync(Head, 10, CancellationToken.None).WaitAsync(Hang));

        Assert.Contains("circuit open", refused.Message, StringComparison.Ordinal);
        Assert.Equal(asked, node.Requests);
        node.Faults = RpcFaults.None;
        time.Advance(options.BreakerDuration);
        Assert.Equal(10, (await peer.GetHeadersReverseAsync(Head, 10, CancellationToken.None).WaitAsync(Hang)).Count);
    }

    [Theory]
    [InlineData("a pre-merge block with uncles", 7)]
    [InlineData("a Shanghai block with withdrawals", 40)]
    [InlineData("the Prague/Osaka head", 54)]
    [InlineData("the genesis, which has no body to speak of", 0)]
    public async Task Bodies_come_from_raw_blocks_by_the_number_their_hash_names(string proves, ulong number)
    {
        Assert.NotEmpty(proves);
        var (peer, _, http) = Peer(Mode.Raw);
        using var client = http;

        var bodies = await peer.GetBodiesAsync([Chain[(int)number].Hash], CancellationToken.None).WaitAsync(Hang);

        Assert.Equal([Chain[(int)number].Body], bodies);
    }

    [Fact]
    public async Task Many_bodies_split_into_batches_keep_their_order_and_unknown_hashes_get_null()
    {
        var (peer, node, http) = Peer(Mode.Raw, new RpcSyncPeerOptions { BatchSize = 4 });
        using var client = http;
        var unknown = new Hash256(new byte[32]);
        var hashes = Chain.Select(b => b.Hash).Reverse().Prepend(unknown).Append(unknown).ToList();

        var bodies = await peer.GetBodiesAsync(hashes, CancellationToken.None).WaitAsync(Hang);

        Assert.Equal(hashes.Count, bodies.Count);
        Assert.Null(bodies[0]);
        Assert.Null(bodies[^1]);
        Assert.Equal(Chain.Reverse().Select(b => b.Body), bodies.Skip(1).Take(Chain.Count));
        // The probe; three requests for the first batch, whose first hash is unknown, so its ends do not place it (the
        // ends, then by hash, then by number); two for each of the 13 others (the ends, then by number); one for the
        // last: it holds only the unknown hash.
        Assert.Equal(1 + 3 + (2 * 13) + 1, node.Requests);
    }

    [Theory(DisplayName = "A run of consecutive blocks is placed by its two ends: two eth_getBlockByHash calls, not one a block, in either order")]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_run_is_placed_by_its_ends(bool descending)
    {
        var (peer, node, http) = Peer(Mode.Raw);
        using var client = http;
        var run = Chain.Skip(10).Take(20).ToList();
        if (descending)
        {
            run.Reverse();
        }

        var bodies = await peer.GetBodiesAsync([.. run.Select(b => b.Hash)], CancellationToken.None).WaitAsync(Hang);

        Assert.Equal(run.Select(b => b.Body), bodies);
        Assert.Equal(2, node.Calls.Count(c => c == "eth_getBlockByHash"));
        Assert.Equal(20, node.Calls.Count(c => c == "debug_getRawBlock") - 1);
    }

    [Fact(DisplayName = "Hashes whose ends fit a run but whose middle does not: the misfits are asked by hash, and every body is the one asked for")]
    public async Task Hashes_that_only_look_like_a_run_fall_back_to_asking_by_hash()
    {
        var (peer, node, http) = Peer(Mode.Raw);
        using var client = http;
        List<Block> asked = [Chain[10], Chain[12], Chain[11], Chain[13]];

        var bodies = await peer.GetBodiesAsync([.. asked.Select(b => b.Hash)], CancellationToken.None).WaitAsync(Hang);

        Assert.Equal(asked.Select(b => b.Body), bodies);
        Assert.Equal(2 + 2, node.Calls.Count(c => c == "eth_getBlockByHash")); // the ends, then the two misfits
    }

    public static TheoryData<string, RpcFaults, string> LyingBodies => new()
    {
        { "a raw block at the number named that is another block is caught", new RpcFaults { RawBlockAnswersBlock = 12 }, "not the" },
        { "a block by hash that is another block is caught", new RpcFaults { AnyHashAnswersBlock = 12 }, "asked for block" },
        { "raw bytes that are not a block are caught", new RpcFaults { UndecodableAt = 20 }, "raw block #20 does not decode" },
    };

    [Theory]
    [MemberData(nameof(LyingBodies))]
    public async Task A_node_lying_about_bodies_fails_the_request(string proves, RpcFaults fault, string reason)
    {
        Assert.NotEmpty(proves);
        var (peer, node, http) = await ProbedPeerAsync(Mode.Raw, NoRetryDelay);
        using var client = http;
        node.Faults = fault;

        var error = await Assert.ThrowsAsync<PeerException>(
            () => peer.GetBodiesAsync([Chain[20].Hash, Chain[21].Hash], CancellationToken.None).WaitAsync(Hang));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Mode.Raw)]
    [InlineData(Mode.Json)]
    public async Task Every_body_of_the_chain_comes_back_whole_in_both_modes(Mode mode)
    {
        var (peer, node, http) = Peer(mode, new RpcSyncPeerOptions { BatchSize = 16 });
        using var client = http;

        var bodies = await peer.GetBodiesAsync([.. Chain.Select(b => b.Hash)], CancellationToken.None).WaitAsync(Hang);

        Assert.Equal(Chain.Select(b => b.Body), bodies);
        // The chain holds every transaction type, uncles and withdrawals, so every rebuild path has been taken.
        Assert.Equal([0, 1, 2, 3, 4], Chain.SelectMany(b => b.Body.Transactions).Select(Type).Distinct().Order());
        Assert.Contains(Chain, b => b.Body.Ommers.Count > 0);
        Assert.Contains(Chain, b => b.Body.Withdrawals is { Count: > 0 });
        Assert.Equal(mode == Mode.Json, node.Calls.Contains("eth_getUncleByBlockHashAndIndex"));

        static int Type(byte[] tx) => Transactions.TryGetType(tx, out var type) ? type : -1;
    }

    [Fact]
    public async Task JSON_transactions_that_do_not_hash_to_the_hash_the_node_claims_are_caught()
    {
        var (peer, node, http) = Peer(Mode.Json);
        using var client = http;
        var number = Chain.First(b => b.Body.Transactions.Count > 0 && b.Header.Number > 40).Header.Number;
        node.Faults = new RpcFaults { WrongTransactionHashAt = number };

        var error = await Assert.ThrowsAsync<PeerException>(
            () => peer.GetBodiesAsync([Chain[(int)number].Hash], CancellationToken.None).WaitAsync(Hang));

        Assert.Contains($"rebuilt transaction hash mismatch in block #{number} at 0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_hash_the_node_does_not_have_is_null_and_asks_no_probe()
    {
        var (peer, node, http) = Peer(Mode.Raw);
        using var client = http;

        Assert.Null(await peer.GetHeaderByHashAsync(new Hash256(new byte[32]), CancellationToken.None).WaitAsync(Hang));
        Assert.Equal(["eth_getBlockByHash"], node.Calls);
        Assert.Null(peer.Capabilities);
    }

    [Fact]
    public async Task A_header_by_hash_that_is_another_block_is_caught()
    {
        var (peer, node, http) = Peer(Mode.Json);
        using var client = http;
        node.Faults = new RpcFaults { AnyHashAnswersBlock = 12 };

        var error = await Assert.ThrowsAsync<PeerException>(
            () => peer.GetHeaderByHashAsync(Chain[13].Hash, CancellationToken.None).WaitAsync(Hang));

        Assert.Contains($"asked for header {Chain[13].Hash}, got #12", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_id_keeps_credentials_and_query_strings_out_of_logs()
    {
        using var node = new FakeRpcNode(Chain, servesDebug: true);
        using var http = new HttpClient(node);

        var peer = new RpcSyncPeer(new Uri("http://user:secret@node.example:8545/rpc?apikey=k"), http);

        Assert.Equal("http://node.example:8545/rpc", peer.Id);
    }

    public static TheoryData<string, RpcSyncPeerOptions> BadOptions => new()
    {
        { "a batch of nothing", new RpcSyncPeerOptions { BatchSize = 0 } },
        { "a batch over geth's limit", new RpcSyncPeerOptions { BatchSize = 1_001 } },
        { "a timeout Polly refuses", new RpcSyncPeerOptions { RequestTimeout = TimeSpan.Zero } },
        { "negative retries", new RpcSyncPeerOptions { Retries = -1 } },
        { "a breaker that can never open", new RpcSyncPeerOptions { BreakerFailureRatio = 0 } },
        { "a response cap too small for any answer", new RpcSyncPeerOptions { MaxResponseBytes = 10 } },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Bad_options_are_refused_when_the_peer_is_built(string proves, RpcSyncPeerOptions options)
    {
        Assert.NotEmpty(proves);
        using var node = new FakeRpcNode(Chain, servesDebug: true);
        using var http = new HttpClient(node);

        Assert.Throws<ArgumentException>(() => new RpcSyncPeer(new Uri("http://127.0.0.1:8545"), http, options));
    }

    private static (RpcSyncPeer Peer, FakeRpcNode Node, HttpClient Http) Peer(Mode mode, RpcSyncPeerOptions? options = null, TimeProvider? time = null)
    {
        var node = new FakeRpcNode(Chain, servesDebug: mode == Mode.Raw);
        var http = new HttpClient(node) { Timeout = Timeout.InfiniteTimeSpan };
        var peer = new RpcSyncPeer(new Uri("http://127.0.0.1:8545"), http, options, time ?? new FakeTimeProvider());
        return (peer, node, http);
    }

    /// <summary>A peer that has probed its node, so that faults set afterwards meet real requests, not the probe.</summary>
    private static async Task<(RpcSyncPeer Peer, FakeRpcNode Node, HttpClient Http)> ProbedPeerAsync(
        Mode mode, RpcSyncPeerOptions? options = null, TimeProvider? time = null)
    {
        var peer = Peer(mode, options, time);
        await peer.Peer.GetHeadersReverseAsync(0, 0, CancellationToken.None).WaitAsync(Hang);
        await peer.Peer.GetHeadersReverseAsync(0, 1, CancellationToken.None).WaitAsync(Hang);
        Assert.Equal(2, peer.Node.Requests);
        return peer;
    }
}

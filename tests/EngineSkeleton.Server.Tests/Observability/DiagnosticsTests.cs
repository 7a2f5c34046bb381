using System.Text.Json;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Server.Observability;
using EngineSkeleton.Server.Tests.Auth;
using EngineSkeleton.Server.Tests.Support;
using EngineSkeleton.Sync.Backfill;
using EngineSkeleton.Sync.Skeleton;
using EngineSkeleton.Testing.Chains;
using EngineSkeleton.Testing.Peers;
using EngineSkeleton.Testing.Rpc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace EngineSkeleton.Server.Tests.Observability;

/// <summary>
/// Each diagnostic of docs/operations.md through the real server (NodeHost, Kestrel on loopback): the one line in the
/// log, in skeleton_status, /status and /health, with the values an operator needs to act (both genesis hashes, the
/// JWT reason and the last failure's time, our anchor and the foreign parent).
/// </summary>
public sealed class DiagnosticsTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    /// <summary>NodeDiagnostics.Log.Diagnostic: the line when it appears.</summary>
    private const int DiagnosticEvent = 700;

    /// <summary>RpcSyncPeer.Log.OtherChain: a JSON-RPC peer refused at its first contact.</summary>
    private const int PeerRefusedEvent = 403;

    /// <summary>SkeletonSync.Log.AnotherNetwork: the announced head does not descend from our anchor.</summary>
    private const int AnotherNetworkEvent = 313;

    [Fact]
    public async Task Without_a_sync_source_the_node_says_so_at_startup_and_again_when_a_head_waits()
    {
        await using var node = await ObservedNode.StartAsync(null).WaitAsync(Bound);

        var logged = await node.Log.Logged(l => l.EventId == DiagnosticEvent && l.Message.Contains(Diagnostic.NoSyncSource, StringComparison.Ordinal)).WaitAsync(Bound);
        Assert.Equal(LogLevel.Warning, logged.Level);
        Assert.StartsWith("No sync source: no --sync.rpc and no --bootnodes", logged.Message, StringComparison.Ordinal);
        var atStartup = Assert.Single(await node.Diagnostics().WaitAsync(Bound), d => d.Code == Diagnostic.NoSyncSource);
        Assert.Contains("no --sync.rpc and no --bootnodes", atStartup.Message);
        var health = await OperatorHttp.Get(node.HttpUri, "/health").WaitAsync(Bound);
        Assert.Equal(200, health.Status);
        using (var doc = JsonDocument.Parse(health.Body))
        {
            Assert.Equal("Degraded", doc.RootElement.GetProperty("status").GetString());
            Assert.Contains(doc.RootElement.GetProperty("diagnostics").EnumerateArray(), d => d.GetProperty("code").GetString() == Diagnostic.NoSyncSource);
        }

        var block = ExecutionApisChain.At(50);
        var (method, args) = PayloadWriter.NewPayload(block);
        await node.Engine(method, args).WaitAsync(Bound);
        await node.Engine("engine_forkchoiceUpdatedV3", PayloadWriter.Forkchoice(block.Header.Hash), null).WaitAsync(Bound);

        var waiting = Assert.Single(await node.Diagnostics().WaitAsync(Bound), d => d.Code == Diagnostic.NoSyncSource);
        Assert.Contains($"the head #50 {block.Header.Hash} waits and no peer is connected", waiting.Message);
        var page = await OperatorHttp.GetJson(node.HttpUri, "/status").WaitAsync(Bound); // what the status page draws
        Assert.Contains(page.GetProperty("diagnostics").EnumerateArray(), d => d.GetProperty("message").GetString() == waiting.Message);
    }

    [Fact]
    public async Task A_JSON_RPC_peer_on_another_chain_is_refused_at_its_first_contact_with_both_genesis_hashes_named()
    {
        var other = GeneratedChain.Headers(20, seed: 7);
        var bodies = GeneratedChain.Bodies(other);
        await using var source = await LoopbackRpcNode.StartAsync([.. other.Select((h, i) => new Block(h, bodies[i]!))]);
        await using var node = await ObservedNode.StartAsync(null, "--sync.rpc", source.Url.ToString()).WaitAsync(Bound);
        await node.Host.RpcPeersContacted.WaitAsync(Bound);
        var ours = ExecutionApisChain.At(0).Header.Hash;
        var theirs = other[0].Hash;
        var both = $"its genesis is {theirs}, ours is {ours}";

        var refused = await node.Log.Logged(l => l.EventId == PeerRefusedEvent).WaitAsync(Bound);
        Assert.Equal(LogLevel.Warning, refused.Level);
        Assert.Contains(both, refused.Message, StringComparison.Ordinal);
        Assert.Contains(source.Url.ToString(), refused.Message, StringComparison.Ordinal);
        var line = Assert.Single(await node.Diagnostics().WaitAsync(Bound), d => d.Code == Diagnostic.PeerOnAnotherChain);
        Assert.Contains(both, line.Message);
        var peer = Assert.Single((await node.Public("skeleton_status").WaitAsync(Bound)).Result().GetProperty("peers").EnumerateArray());
        Assert.True(peer.GetProperty("dropped").GetBoolean());
        Assert.Contains(theirs.ToString(), peer.GetProperty("dropReason").GetString());
        Assert.Contains(both, (await OperatorHttp.Get(node.HttpUri, "/health").WaitAsync(Bound)).Body);
        var logged = await node.Log.Logged(l => l.EventId == DiagnosticEvent && l.Message.Contains(Diagnostic.PeerOnAnotherChain, StringComparison.Ordinal)).WaitAsync(Bound);
        Assert.Contains(both, logged.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_JSON_RPC_peer_that_does_not_answer_its_first_contact_is_named_with_the_reason()
    {
        int port;
        using (var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        }
        await using var node = await TestNode.StartAsync("--sync.rpc", $"http://127.0.0.1:{port}/").WaitAsync(Bound);
        await node.Host.RpcPeersContacted.WaitAsync(Bound);

        var line = Assert.Single(await OperatorHttp.Diagnostics(node).WaitAsync(Bound), d => d.Code == Diagnostic.PeerUnreachable);
        Assert.Contains($"Peer http://127.0.0.1:{port}/ did not answer its first contact: transport error", line.Message);
        Assert.DoesNotContain(await OperatorHttp.Diagnostics(node), d => d.Code == Diagnostic.NoSyncSource); // a source is configured
    }

    /// <summary>
    /// A head from another network: the JSON-RPC peer answers block 0 with our genesis (so its first contact passes)
    /// and serves above it another network's chain, whose block 1 names that network's genesis as parent. The
    /// skeleton downloads it down to block 1, says once at Error that the head does not descend from our anchor,
    /// keeps the headers, and asks the peer nothing over a minute of fake time, then only the head's header once per
    /// slot while a beacon node repeats the head for two more minutes (past the diagnostics' 2-minute repeat, so
    /// "once" is checked too).
    /// </summary>
    [Fact]
    public async Task A_head_from_another_network_is_reported_once_the_skeleton_kept_and_the_peer_not_asked_again()
    {
        const int Head = 600;
        var ours = ExecutionApisChain.At(0);
        var theirs = GeneratedChain.Headers(Head + 1, seed: 7);
        var bodies = GeneratedChain.Bodies(theirs);
        Assert.NotEqual(ours.Header.Hash, theirs[0].Hash);
        await using var source = await LoopbackRpcNode.StartAsync([ours, .. theirs.Skip(1).Select((h, i) => new Block(h, bodies[i + 1]!))]);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var node = await ObservedNode.StartAsync(time, "--sync.rpc", source.Url.ToString()).WaitAsync(Bound);
        await node.Host.RpcPeersContacted.WaitAsync(Bound);
        var head = theirs[Head].Hash;

        await Announce(node, head).WaitAsync(Bound);
        var said = await node.Log.Logged(l => l.EventId == AnotherNetworkEvent).WaitAsync(Bound);

        Assert.Equal(LogLevel.Error, said.Level);
        Assert.Contains(ours.Header.Hash.ToString(), said.Message, StringComparison.Ordinal);
        Assert.Contains(theirs[0].Hash.ToString(), said.Message, StringComparison.Ordinal);
        Assert.Contains("the beacon node follows another network or the datadir belongs to one", said.Message, StringComparison.Ordinal);
        var line = Assert.Single(await node.Diagnostics().WaitAsync(Bound), d => d.Code == Diagnostic.HeadOnAnotherNetwork);
        Assert.Contains($"its block #1 names parent {theirs[0].Hash}, this node has {ours.Header.Hash} at #0", line.Message, StringComparison.Ordinal);
        Assert.Contains("The beacon node follows another network, or this datadir", line.Message, StringComparison.Ordinal);
        var asked = source.Node.Requests;

        // A minute of fake time with no new head: the stall watchdog and the diagnostics tick; the peer is asked nothing.
        for (var second = 0; second < 60; second++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
        }
        Assert.Equal(asked, source.Node.Requests);

        // Two more minutes of slots, the beacon node repeating its head in each: the head's header is looked up once
        // per forkchoiceUpdated (the Engine API handler asks the peers for an unknown head), and nothing else.
        const int Slots = 10;
        for (var slot = 0; slot < Slots; slot++)
        {
            time.Advance(TimeSpan.FromSeconds(12));
            Assert.Equal("SYNCING", (await node.Engine("engine_forkchoiceUpdatedV3", PayloadWriter.Forkchoice(head), null).WaitAsync(Bound)).FcuStatus());
        }
        Assert.Equal(asked + Slots, source.Node.Requests);
        Assert.Equal(Enumerable.Repeat("eth_getBlockByHash", Slots), source.Node.Calls.ToArray()[^Slots..]);
        var status = (await node.Public("skeleton_status").WaitAsync(Bound)).Result();
        Assert.Equal(line.Message, Assert.Single(await node.Diagnostics().WaitAsync(Bound), d => d.Code == Diagnostic.HeadOnAnotherNetwork).Message);
        Assert.Contains("another network", status.GetProperty("anotherChain").GetString(), StringComparison.Ordinal);
        var subchain = Assert.Single(status.GetProperty("subchains").EnumerateArray()); // kept for inspection
        Assert.Equal((PayloadWriter.Q(Head), PayloadWriter.Q(1), theirs[0].Hash.ToString()), (subchain.GetProperty("head").GetString(), subchain.GetProperty("tail").GetString(), subchain.GetProperty("next").GetString()));
        Assert.False(Assert.Single(status.GetProperty("peers").EnumerateArray()).GetProperty("dropped").GetBoolean()); // still there, not asked
        Assert.Single(node.Log.Lines, l => l.EventId == AnotherNetworkEvent);
        Assert.DoesNotContain(node.Log.Lines, l => l.Message.Contains(Diagnostic.HeadOnAnotherNetwork, StringComparison.Ordinal)); // not repeated by the diagnostics
        foreach (var path in new[] { "/health/ready", "/health", "/status" })
        {
            var body = await OperatorHttp.GetJson(node.HttpUri, path).WaitAsync(Bound);
            Assert.Contains(body.GetProperty("diagnostics").EnumerateArray(), d => d.GetProperty("code").GetString() == Diagnostic.HeadOnAnotherNetwork);
        }

        // The beacon node is pointed at our network: a peer of ours serves its head, the sync links, the line clears.
        var mine = FakeRpcNode.ExecutionApis;
        node.Host.App.Services.GetRequiredService<SkeletonSync>().AddPeer(new InProcessPeer("ours", [.. mine.Select(b => b.Header)], [.. mine.Select(b => b.Body)], time));
        var filled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ((Backfiller)node.Host.App.Services.GetRequiredService<IBackfiller>()).AfterRun = h =>
        {
            if (h.Number == 54)
            {
                filled.TrySetResult();
            }
        };
        await Announce(node, mine[54].Hash).WaitAsync(Bound);
        await filled.Task.WaitAsync(Bound);
        Assert.DoesNotContain(await node.Diagnostics().WaitAsync(Bound), d => d.Code == Diagnostic.HeadOnAnotherNetwork);
        Assert.Equal(JsonValueKind.Null, (await node.Public("skeleton_status").WaitAsync(Bound)).Result().GetProperty("anotherChain").ValueKind);
    }

    /// <summary>
    /// forkchoiceUpdatedV3(head) as a beacon node sends it, repeated (at most 10 times, once a slot) while the node
    /// could not get the head's header from a peer within its 1 s bound (a loaded machine) and so did not start on it.
    /// </summary>
    private static async Task Announce(ObservedNode node, Hash256 head)
    {
        for (var attempt = 1; ; attempt++)
        {
            Assert.Equal("SYNCING", (await node.Engine("engine_forkchoiceUpdatedV3", PayloadWriter.Forkchoice(head), null)).FcuStatus());
            var status = (await node.Public("skeleton_status")).Result();
            if ((status.GetProperty("announcedHead").GetString() == head.ToString() && status.GetProperty("announcedNumber").ValueKind != JsonValueKind.Null) || attempt == 10)
            {
                return;
            }
        }
    }

    public static TheoryData<string, string?, string> Silences => new()
    {
        { "no call at all", null, "no Engine API call has passed JWT since startup" },
        { "calls whose iat is two minutes old (the clocks differ)", "stale", "the clocks of the two machines differ" },
        { "calls signed with another secret", "other-secret", "the consensus client uses another JWT secret" },
        { "calls without a token", "none", "they carry no JWT" },
    };

    [Theory]
    [MemberData(nameof(Silences))]
    public async Task No_beacon_client_seen_after_two_silent_minutes_says_why_and_clears_with_the_first_good_call(string because, string? token, string expected)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var node = await ObservedNode.StartAsync(time).WaitAsync(Bound);
        var failedAt = time.GetUtcNow();
        if (token is not null)
        {
            var iat = time.GetUtcNow().ToUnixTimeSeconds();
            var jwt = token switch
            {
                "stale" => JwtTestTokens.Hs256(node.Host.Secret.ToArray(), iat - 120),
                "other-secret" => JwtTestTokens.Hs256(JwtTestTokens.HiveSecret, iat),
                _ => null,
            };
            Assert.Equal(401, await node.EngineStatus(jwt).WaitAsync(Bound));
            // Counted before the 401 was written, so by now, and before the clock moves.
            Assert.Equal(failedAt, node.Host.App.Services.GetRequiredService<EngineApiMonitor>().FailureSinceContact?.At);
        }
        time.Advance(NodeDiagnostics.BeaconSilence - TimeSpan.FromSeconds(1));
        Assert.DoesNotContain(await node.Diagnostics().WaitAsync(Bound), d => d.Code == Diagnostic.NoBeaconClient);

        time.Advance(TimeSpan.FromSeconds(2));
        var line = Assert.Single(await node.Diagnostics().WaitAsync(Bound), d => d.Code == Diagnostic.NoBeaconClient);
        Assert.True(line.Message.Contains(expected, StringComparison.Ordinal), $"{because}: {line.Message}");
        if (token is not null)
        {
            Assert.True(line.Message.Contains("1 calls arrived and failed JWT", StringComparison.Ordinal), $"{because}: {line.Message}");
            Assert.True(line.Message.Contains($"the last at {failedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z", StringComparison.Ordinal), $"{because}: {line.Message}");
        }
        var logged = await node.Log.Logged(l => l.EventId == DiagnosticEvent && l.Message.Contains(Diagnostic.NoBeaconClient, StringComparison.Ordinal)).WaitAsync(Bound);
        Assert.Equal(LogLevel.Warning, logged.Level);
        Assert.True(logged.Message.StartsWith("No beacon client seen: ", StringComparison.Ordinal) && logged.Message.Contains(expected, StringComparison.Ordinal), $"{because}: {logged.Message}");

        Assert.Equal(200, await node.EngineStatus(node.Jwt()).WaitAsync(Bound));
        Assert.DoesNotContain(await node.Diagnostics().WaitAsync(Bound), d => d.Code == Diagnostic.NoBeaconClient);
    }
}

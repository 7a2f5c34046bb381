using System.Text.Json.Nodes;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Network.Rpc;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Testing.Rpc;
using Microsoft.Extensions.Time.Testing;

namespace EngineSkeleton.Network.Tests.Rpc;

/// <summary>
/// An RPC peer's first contact: a node on another chain (genesis or chain id not ours) is refused with both values
/// named, for good and without asking it again; a node that does not serve block 0 says so in words.
/// </summary>
public sealed class RpcSyncPeerChainTests
{
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(30);

    private static readonly IReadOnlyList<Block> Chain = FakeRpcNode.ExecutionApis;

    private static readonly Hash256 Ours = Chain[0].Hash;

    private static readonly Hash256 Another = Hash256.FromHex("0x" + new string('a', 64));

    public static TheoryData<string, Hash256?, ulong?, string?, string?> Contacts => new()
    {
        { "our genesis and no chain id asked: accepted", Ours, null, null, null },
        { "our genesis, a chain id asked of a node that does not serve eth_chainId: accepted", Ours, 1UL, null, null },
        { "our genesis and our chain id: accepted", Ours, 7UL, "\"0x7\"", null },
        { "another genesis: refused, both hashes named", Another, null, null, $"{RpcSyncPeer.OtherChain}: its genesis is {Ours}, ours is {Another}" },
        { "another chain id: refused, both ids named", Ours, 7UL, "\"0x1\"", $"{RpcSyncPeer.OtherChain}: its chain id is 1, ours is 7" },
        { "no genesis check (a checkpoint-anchored node): accepted whatever block 0 is", null, null, null, null },
    };

    [Theory]
    [MemberData(nameof(Contacts))]
    public async Task The_first_contact_checks_the_chain(string because, Hash256? genesis, ulong? chainId, string? chainIdAnswer, string? refusal)
    {
        var node = new FakeRpcNode(Chain, servesDebug: true);
        using var http = new HttpClient(new Rewriting(node, (method, _) => method == "eth_chainId" ? chainIdAnswer : null)) { Timeout = Timeout.InfiniteTimeSpan };
        var peer = new RpcSyncPeer(new Uri("http://127.0.0.1:8545"), http, new RpcSyncPeerOptions { ExpectedGenesis = genesis, ExpectedChainId = chainId }, new FakeTimeProvider());

        var failure = await Failure(peer.CheckChainAsync(CancellationToken.None));

        Assert.True(failure == refusal, $"{because}: {failure}");
        if (refusal is not null)
        {
            var asked = node.Requests;
            Assert.Equal(refusal, await Failure(peer.GetHeadersReverseAsync(10, 5, CancellationToken.None)));
            Assert.Equal(asked, node.Requests); // refused for good: not asked again
        }
        else
        {
            Assert.Equal(5, (await peer.GetHeadersReverseAsync(10, 5, CancellationToken.None).WaitAsync(Hang)).Count);
        }
    }

    [Fact]
    public async Task A_node_that_answers_null_for_block_0_is_said_not_to_serve_it_not_to_send_a_malformed_block()
    {
        var node = new FakeRpcNode(Chain, servesDebug: true);
        using var http = new HttpClient(new Rewriting(node, (method, param) => method == "eth_getBlockByNumber" && param == "0x0" ? "null" : null)) { Timeout = Timeout.InfiniteTimeSpan };
        var peer = new RpcSyncPeer(new Uri("http://127.0.0.1:8545"), http, new RpcSyncPeerOptions { ExpectedGenesis = Ours }, new FakeTimeProvider());

        var failure = await Failure(peer.CheckChainAsync(CancellationToken.None));

        Assert.NotNull(failure);
        Assert.StartsWith("does not serve block 0 (eth_getBlockByNumber(0x0) answered null)", failure);
        Assert.DoesNotContain("malformed", failure);
    }

    private static async Task<string?> Failure(Task request)
    {
        try
        {
            await request.WaitAsync(Hang);
            return null;
        }
        catch (PeerException e)
        {
            return e.Message;
        }
    }

    /// <summary>The fake node's answers, with the result of chosen calls replaced (raw JSON; null keeps the fake's own).</summary>
    private sealed class Rewriting(HttpMessageHandler inner, Func<string, string?, string?> result) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var calls = JsonNode.Parse(await request.Content!.ReadAsStringAsync(cancellationToken))!.AsArray();
            var response = await base.SendAsync(request, cancellationToken);
            var answers = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken))!.AsArray();
            foreach (var call in calls)
            {
                var parameters = call!["params"]!.AsArray();
                var param = parameters.Count > 0 ? parameters[0]!.GetValue<string>() : null;
                if (result(call["method"]!.GetValue<string>(), param) is not { } replaced)
                {
                    continue;
                }
                var id = call["id"]!.GetValue<int>();
                var index = answers.Select((a, i) => (a, i)).Single(x => x.a!["id"]!.GetValue<int>() == id).i;
                answers[index] = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["result"] = JsonNode.Parse(replaced) };
            }
            response.Content = new StringContent(answers.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
            return response;
        }
    }
}

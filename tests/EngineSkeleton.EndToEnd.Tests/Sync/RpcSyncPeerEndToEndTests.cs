using System.Text;
using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Trie;
using EngineSkeleton.EndToEnd.Tests.Fixtures;
using EngineSkeleton.Network.Rpc;
using Xunit.Abstractions;

namespace EngineSkeleton.EndToEnd.Tests.Sync;

/// <summary>
/// END-TO-END (real third-party software): <see cref="RpcSyncPeer"/> against the @ethereumjs/client 0.10.5 node the
/// Prague chain was built on. Headers, a header by hash and bodies must come back as the chain file recorded them.
/// </summary>
[Collection(PragueChainCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class RpcSyncPeerEndToEndTests(PragueChainFixture fixture, ITestOutputHelper output)
{
    /// <summary>A guard against a hung node, never a timing assertion.</summary>
    private static readonly TimeSpan Hang = TimeSpan.FromMinutes(2);

    [Fact(DisplayName = "RpcSyncPeer on ethereumjs: raw headers newest first with the source's hashes, header by hash, bodies matching their roots")]
    public async Task RpcSyncPeer_serves_the_source_chain_from_ethereumjs()
    {
        var chain = fixture.Chain;
        var head = (ulong)chain.Head.Number;
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var peer = new RpcSyncPeer(fixture.Source.RpcUrl, http);

        var headers = await peer.GetHeadersReverseAsync(head, 64, CancellationToken.None).WaitAsync(Hang);

        output.WriteLine($"ethereumjs capabilities: {peer.Capabilities}");
        Assert.Equal(new RpcNodeCapabilities(RawHeaders: true, RawBlocks: true), peer.Capabilities);
        Assert.Equal(ExpectedHashes(head, 64), headers.Select(h => h.Hash.ToString()));
        Assert.Equal(chain.Head.RawHeader, Hex.Encode(headers[0].Encode()));

        var byHash = await peer.GetHeaderByHashAsync(Hash256.FromHex(chain.Head.Hash), CancellationToken.None).WaitAsync(Hang);
        Assert.Equal(headers[0], byHash);

        // Blocks with transactions among the 64 headers fetched, whatever the chain's length (E2E_CHAIN_BLOCKS).
        var picked = chain.Blocks.Where(b => b.TransactionCount > 0 && b.Number > (long)head - 64).Take(4).ToList();
        Assert.NotEmpty(picked);
        var bodies = await peer.GetBodiesAsync([.. picked.Select(b => Hash256.FromHex(b.Hash))], CancellationToken.None).WaitAsync(Hang);
        Assert.Equal(picked.Count, bodies.Count);
        for (var i = 0; i < picked.Count; i++)
        {
            var header = headers.Single(h => h.Hash.ToString() == picked[i].Hash);
            var body = Assert.IsType<BlockBody>(bodies[i]);
            Assert.Equal(picked[i].TransactionCount, body.Transactions.Count);
            Assert.Equal(header.TransactionsRoot, TrieRoots.OfList(body.Transactions));
            Assert.Equal(header.WithdrawalsRoot, TrieRoots.OfWithdrawals(body.Withdrawals!));
        }
    }

    [Fact(DisplayName = "RpcSyncPeer on ethereumjs with its debug_ methods hidden, as on hardhat: headers and bodies rebuilt from its JSON are the source's")]
    public async Task Headers_and_bodies_rebuilt_from_ethereumjs_json_are_the_source_chain()
    {
        var chain = fixture.Chain;
        var head = (ulong)chain.Head.Number;
        using var http = new HttpClient(new HideDebugMethods(new HttpClientHandler())) { Timeout = Timeout.InfiniteTimeSpan };
        var peer = new RpcSyncPeer(fixture.Source.RpcUrl, http, new RpcSyncPeerOptions { BatchSize = 16 });

        var headers = await peer.GetHeadersReverseAsync(head, 64, CancellationToken.None).WaitAsync(Hang);

        Assert.Equal(new RpcNodeCapabilities(RawHeaders: false, RawBlocks: false), peer.Capabilities);
        Assert.Equal(ExpectedHashes(head, 64), headers.Select(h => h.Hash.ToString()));
        Assert.Equal(chain.Head.RawHeader, Hex.Encode(headers[0].Encode()));
        var genesis = await peer.GetHeaderByHashAsync(Hash256.FromHex(chain.GenesisHash), CancellationToken.None).WaitAsync(Hang);
        Assert.Equal(chain.GenesisHash, genesis?.Hash.ToString());

        var picked = chain.Blocks.Where(b => b.TransactionCount > 0).TakeLast(8).ToList();
        Assert.NotEmpty(picked);
        var bodies = await peer.GetBodiesAsync([.. picked.Select(b => Hash256.FromHex(b.Hash))], CancellationToken.None).WaitAsync(Hang);
        Assert.Equal(picked.Select(b => Block.Decode(Hex.Decode(b.RawBlock)).Body), bodies);
    }

    private IEnumerable<string> ExpectedHashes(ulong origin, int count)
    {
        var chain = fixture.Chain;
        for (var n = (long)origin; n >= 0 && n > (long)origin - count; n--)
        {
            yield return n == 0 ? chain.GenesisHash : chain.Blocks[(int)n - 1].Hash;
        }
    }

    /// <summary>Makes ethereumjs look like hardhat: every debug_getRaw* call is renamed to a method it lacks (-32601).</summary>
    private sealed class HideDebugMethods(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = await request.Content!.ReadAsStringAsync(cancellationToken);
            var renamed = new StringContent(body.Replace("\"debug_getRaw", "\"debug_hiddenRaw", StringComparison.Ordinal), Encoding.UTF8);
            renamed.Headers.ContentType = request.Content.Headers.ContentType;
            request.Content = renamed;
            return await base.SendAsync(request, cancellationToken);
        }
    }
}

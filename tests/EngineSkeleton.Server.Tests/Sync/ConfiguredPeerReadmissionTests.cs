using EngineSkeleton.Core.Validation;
using EngineSkeleton.Network.Rpc;
using EngineSkeleton.Storage.Chain;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Backfill;
using EngineSkeleton.Sync.Beacon;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Sync.Skeleton;
using EngineSkeleton.Testing.Chains;
using EngineSkeleton.Testing.Rpc;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace EngineSkeleton.Server.Tests.Sync;

/// <summary>
/// A --sync.rpc peer that times out once under load is benched, not lost for the life of the process (issue 14):
/// it comes back after its backoff and the sync ends on the announced head, with no restart of anything. The real
/// JSON-RPC peer (RpcSyncPeer) over a node in a message handler, the real skeleton and backfiller, under a virtual
/// clock: the timeout and the backoff pass only when the test moves it; every await is bounded in real time.
/// </summary>
public sealed class ConfiguredPeerReadmissionTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_configured_JSON_RPC_peer_that_times_out_is_dropped_readmitted_after_its_backoff_and_the_sync_ends_on_the_head()
    {
        var time = new FakeTimeProvider();
        var node = new FakeRpcNode(FakeRpcNode.ExecutionApis, servesDebug: true) { Faults = new RpcFaults { Stall = true } };
        using var http = new HttpClient(node) { Timeout = Timeout.InfiniteTimeSpan };
        var peer = new RpcSyncPeer(new Uri("http://node.invalid/"), http, new RpcSyncPeerOptions { Retries = 0 }, time);
        using var chain = ChainStore.OpenInMemory();
        chain.Initialize(ExecutionApisChain.GenesisBlock);
        using var skeleton = SkeletonStore.OpenInMemory();
        var peers = new PeerSet(time);
        var filler = new Backfiller(chain, skeleton, peers, new BlockValidator(ExecutionApisChain.Spec), time, NullLogger<Backfiller>.Instance);
        await using var sync = new SkeletonSync(skeleton, peers, filler, new ChainLink(chain), time, NullLogger<SkeletonSync>.Instance);
        var facade = new BeaconSync(sync, peers, h => chain.GetHeader(h)?.Number, () => chain.HeadHeader.Number);
        var dropped = new TaskCompletionSource<DateTimeOffset?>(TaskCreationOptions.RunContinuationsAsynchronously);
        peers.AfterDrop = (_, readmitAt) => dropped.TrySetResult(readmitAt);
        var readmitted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        peers.Readmitted += _ => readmitted.TrySetResult();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        filler.AfterRun = head =>
        {
            if (head.Number == 54)
            {
                done.TrySetResult();
            }
        };
        sync.AddConfiguredPeer(peer);
        sync.Start();
        var head = ExecutionApisChain.At(54).Header;

        // The node takes the request and never answers: past every timeout, the peer is dropped as unresponsive.
        var asked = node.NextRequest;
        Assert.Equal(SyncRequestOutcome.Accepted, await facade.SyncAsync(head, default, force: true).WaitAsync(Bound));
        await asked.WaitAsync(Bound);
        time.Advance(TimeSpan.FromSeconds(61)); // beyond the skeleton's 60 s cap and the peer's own 20 s
        var readmitAt = await dropped.Task.WaitAsync(Bound);

        Assert.Equal(time.GetUtcNow() + PeerSet.FirstReadmitUnresponsive, readmitAt);
        var status = Assert.Single(facade.Status().Peers!);
        Assert.True(status.Dropped);
        Assert.True(status.Configured);
        Assert.Equal(DropCause.Unresponsive, status.DropCause);
        Assert.Equal(readmitAt, status.ReadmitAt);

        // Load gone; the backoff passes: the same peer is back and the sync ends on the head.
        node.Faults = RpcFaults.None;
        time.Advance(PeerSet.FirstReadmitUnresponsive);
        await readmitted.Task.WaitAsync(Bound);
        await done.Task.WaitAsync(Bound);

        Assert.Equal(head.Hash, chain.HeadHeader.Hash);
        for (ulong n = 0; n <= 54; n++)
        {
            Assert.Equal(ExecutionApisChain.At(n).Header.Hash, chain.GetCanonicalHash(n));
        }
        var back = Assert.Single(facade.Status().Peers!);
        Assert.False(back.Dropped);
        Assert.Null(back.ReadmitAt);
        Assert.Equal(1, back.Readmissions);
        Assert.True(back.ServedHeaders > 0);
    }
}

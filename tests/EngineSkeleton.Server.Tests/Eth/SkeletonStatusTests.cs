using EngineSkeleton.Server.Eth;
using EngineSkeleton.Server.Tests.Support;
using EngineSkeleton.Sync.Beacon;
using EngineSkeleton.Testing.Chains;

namespace EngineSkeleton.Server.Tests.Eth;

/// <summary>
/// skeleton_status' "state" on the wire: the strings it had before the loop's state became an enum, for every
/// member, and over HTTP from a node as it starts and once a head is announced without peers.
/// </summary>
public sealed class SkeletonStatusTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    public static TheoryData<SyncState, string> WireNames => new()
    {
        { SyncState.Idle, "idle" },
        { SyncState.Syncing, "syncing" },
        { SyncState.Linked, "linked" },
        { SyncState.Terminated, "terminated" },
        { SyncState.WaitingForPeers, "waiting for peers" },
    };

    [Theory]
    [MemberData(nameof(WireNames))]
    public void Each_state_keeps_its_wire_name(SyncState state, string wire) =>
        Assert.Equal(wire, EthRpcModule.StateName(state));

    [Fact]
    public void Every_state_has_a_wire_name() =>
        Assert.Equal(Enum.GetValues<SyncState>().Order(), WireNames.Select(row => (SyncState)row[0]).Order());

    [Fact]
    public async Task A_fresh_node_is_idle_and_a_forced_head_without_peers_is_waiting_for_peers()
    {
        await using var node = await TestNode.StartAsync().WaitAsync(Bound);
        Assert.Equal("idle", await State(node));

        // The header comes with the payload (no peer could give it); forkchoiceUpdated then starts the sync on it.
        var block = ExecutionApisChain.At(50);
        var (method, args) = PayloadWriter.NewPayload(block);
        Assert.Equal("SYNCING", (await node.Engine(method, args).WaitAsync(Bound)).Status());
        Assert.Equal("SYNCING", (await node.Engine("engine_forkchoiceUpdatedV3", PayloadWriter.Forkchoice(block.Header.Hash), null).WaitAsync(Bound)).FcuStatus());

        Assert.Equal("waiting for peers", await State(node));
    }

    private static async Task<string?> State(TestNode node) =>
        (await node.Public("skeleton_status").WaitAsync(Bound)).Result().GetProperty("state").GetString();
}

using EngineSkeleton.Simulation.Tests.Runtime;
using EngineSkeleton.Storage.Chain;
using EngineSkeleton.Storage.Skeleton;
using EngineSkeleton.Sync.Backfill;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Sync.Skeleton;
using EngineSkeleton.Sync.Supervision;
using Microsoft.Extensions.Logging.Abstractions;

namespace EngineSkeleton.Simulation.Tests.World;

/// <summary>The process under test: our node's stores, peer set, backfiller and skeleton loop, as the host wires them.</summary>
internal sealed class NodeProcess : IDisposable
{
    private readonly Dictionary<string, SimPeer> _connections = new(StringComparer.Ordinal);
    private readonly BlockTree _tree;
    private readonly SimRuntime _runtime;
    private readonly Random _random;
    private readonly Action<string> _note;

    /// <summary>
    /// Opens the stores in <paramref name="directory"/> (what an earlier process committed, if any) and starts the sync;
    /// <paramref name="beforeCommit"/> runs inside every write transaction of either store (true: the skeleton's), where a
    /// crash point throws.
    /// </summary>
    public NodeProcess(int number, string directory, BlockTree tree, SimRuntime runtime, Random random, Action<bool> beforeCommit, Action<string> note)
    {
        _tree = tree;
        _runtime = runtime;
        _random = random;
        _note = note;
        Id = new SimProcessId(number);
        Clock = new SimClock(runtime, Id);
        Skeleton = SkeletonStore.Open(Path.Combine(directory, SkeletonStore.FileName));
        Chain = ChainStore.Open(Path.Combine(directory, "chain.db"));
        Chain.Initialize(tree.Genesis);
        Skeleton.BeforeCommit = () => beforeCommit(true);
        Chain.BeforeCommit = () => beforeCommit(false);
        var threading = SyncThreading.Simulated(work => runtime.Post(runtime.Owner, work, "work"), (ready, token) => runtime.Pump(Id, ready, token));
        Peers = new PeerSet(Clock);
        Filler = new Backfiller(Chain, Skeleton, Peers, tree.Validator, Clock, NullLogger<Backfiller>.Instance) { Threading = threading };
        Sync = new SkeletonSync(Skeleton, Peers, Filler, new ChainLink(Chain), Clock, NullLogger<SkeletonSync>.Instance) { Threading = threading };
    }

    public SimProcessId Id { get; }

    public SimClock Clock { get; }

    public SkeletonStore Skeleton { get; }

    public ChainStore Chain { get; }

    public PeerSet Peers { get; }

    public Backfiller Filler { get; }

    public SkeletonSync Sync { get; }

    public void Start() => _runtime.RunAs(Id, Sync.Start);

    /// <summary>Connects to <paramref name="node"/>: configured nodes the way --sync.rpc adds them, others as found peers.</summary>
    public void Connect(RemoteNode node)
    {
        var peer = new SimPeer(node, _tree, _runtime, Id, _random, _note);
        _connections[node.Id] = peer;
        _runtime.RunAs(Id, () =>
        {
            if (node.Configured)
            {
                Sync.AddConfiguredPeer(peer);
            }
            else
            {
                Sync.AddPeer(peer);
            }
        });
    }

    /// <summary>The node left: its requests fail and it is removed from the set (a disconnect).</summary>
    public void Disconnect(RemoteNode node)
    {
        if (_connections.Remove(node.Id, out var peer))
        {
            peer.Disconnected = true;
            Peers.Remove(peer);
        }
    }

    /// <summary>After the process is gone: closes the files (what was committed stays; the kill came before the next commit).</summary>
    public void Dispose()
    {
        Id.Kill();
        Skeleton.Dispose();
        Chain.Dispose();
    }
}

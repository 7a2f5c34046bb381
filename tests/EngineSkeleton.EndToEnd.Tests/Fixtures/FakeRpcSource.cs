using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Testing.Rpc;

namespace EngineSkeleton.EndToEnd.Tests.Fixtures;

/// <summary>
/// A JSON-RPC source on a loopback port for a server process to --sync.rpc from: the test machinery's
/// <see cref="FakeRpcNode"/> (a node serving a chain of blocks as ethereumjs does) behind Kestrel
/// (<see cref="LoopbackRpcNode"/>). For tests whose subject is our node, not a third party's, where ethereumjs'
/// minutes of start-up buy nothing.
/// </summary>
/// <remarks>
/// Started with <c>holdBodies</c>, it holds a sync at one point: batches of <c>debug_getRawBlock</c> (the backfiller's
/// bodies) wait until <see cref="ReleaseBodies"/>, so the skeleton downloads and links and the backfill stands still
/// until the test has looked. The capability probe (block 0 by eth_getBlockByNumber in the same batch) passes.
/// </remarks>
public sealed class FakeRpcSource : IAsyncDisposable
{
    /// <summary>Longest a held batch waits: the node's peer retries give up after three 20 s attempts.</summary>
    private static readonly TimeSpan HoldBound = TimeSpan.FromSeconds(50);

    private readonly TaskCompletionSource _bodies = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private LoopbackRpcNode? _loopback;

    private FakeRpcSource()
    {
    }

    public FakeRpcNode Node => Loopback.Node;

    public Uri Url => Loopback.Url;

    private LoopbackRpcNode Loopback => _loopback ?? throw new InvalidOperationException("the source is not started");

    public void ReleaseBodies() => _bodies.TrySetResult();

    public static async Task<FakeRpcSource> StartAsync(IReadOnlyList<Block> chain, bool holdBodies = false, CancellationToken cancellationToken = default)
    {
        var source = new FakeRpcSource();
        if (!holdBodies)
        {
            source.ReleaseBodies();
        }
        source._loopback = await LoopbackRpcNode.StartAsync(chain, servesDebug: true, source.HoldBodiesAsync).WaitAsync(cancellationToken);
        return source;
    }

    public async ValueTask DisposeAsync()
    {
        ReleaseBodies();
        if (_loopback is not null)
        {
            await _loopback.DisposeAsync();
        }
    }

    private async Task HoldBodiesAsync(byte[] body, CancellationToken cancellationToken)
    {
        if (_bodies.Task.IsCompleted)
        {
            return;
        }
        var text = System.Text.Encoding.UTF8.GetString(body);
        if (text.Contains("debug_getRawBlock", StringComparison.Ordinal) && !text.Contains("eth_getBlockByNumber", StringComparison.Ordinal))
        {
            await _bodies.Task.WaitAsync(HoldBound, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }
}

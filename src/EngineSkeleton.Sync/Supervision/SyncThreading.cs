namespace EngineSkeleton.Sync.Supervision;

/// <summary>
/// Where the skeleton loop and the backfiller get their threads (docs/simulation.md). <see cref="Product"/> is what the
/// node runs: the loop on a thread of its own that blocks between events, peer requests and the fill on the thread
/// pool, cancellation callbacks off the loop's thread. A deterministic simulation swaps it for one thread: work is
/// handed to its <c>post</c> (a queue it runs in an order drawn from a seed), and where the loop would block it calls
/// <see cref="Pump"/> instead, which runs other queued work on that same thread until what the loop waits for holds (and
/// throws <see cref="OperationCanceledException"/> when the simulated process is killed). Simulated work runs outside
/// any task scheduler or synchronization context, so the product's <c>ConfigureAwait(false)</c> continuations run
/// inline on that thread rather than on the pool. Nothing but this choice differs between the two: the sync's
/// decisions are the same code.
/// </summary>
internal sealed class SyncThreading
{
    private readonly Action<Action>? _post;

    private SyncThreading(Action<Action>? post, Action<Func<bool>, CancellationToken>? pump)
    {
        _post = post;
        Pump = pump;
    }

    /// <summary>The node's threading: a thread for the loop, the thread pool for the rest.</summary>
    public static readonly SyncThreading Product = new(null, null);

    /// <summary>Everything handed to <paramref name="post"/>; the loop's waits call <paramref name="pump"/>.</summary>
    public static SyncThreading Simulated(Action<Action> post, Action<Func<bool>, CancellationToken> pump) => new(post, pump);

    /// <summary>Runs queued work until the condition holds; null in the product, where the loop blocks its own thread.</summary>
    public Action<Func<bool>, CancellationToken>? Pump { get; }

    /// <summary>Starts the skeleton loop: on a thread of its own (LongRunning) in the product, as queued work when simulated.</summary>
    public Task StartLoop(Action loop) => _post is null
        ? Task.Factory.StartNew(loop, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)
        : Post(() =>
        {
            loop();
            return Task.CompletedTask;
        });

    /// <summary><see cref="Task.Run(Func{Task})"/>, or queued work when simulated.</summary>
    public Task Run(Func<Task> work) => _post is null ? Task.Run(work) : Post(work);

    /// <summary>Leaves the caller's thread (<see cref="Task.Yield"/>): the continuation runs as other queued work.</summary>
    public Task YieldAsync() => _post is null ? YieldToPool() : Post(static () => Task.CompletedTask);

    /// <summary>
    /// Cancels <paramref name="source"/>: callbacks on the thread pool in the product (<see cref="CancellationTokenSource.CancelAsync"/>),
    /// inline when simulated, so no thread outside the simulation runs what they complete.
    /// </summary>
    public Task CancelAsync(CancellationTokenSource source)
    {
        if (_post is null)
        {
            return source.CancelAsync();
        }
        source.Cancel();
        return Task.CompletedTask;
    }

    private static async Task YieldToPool() => await Task.Yield();

    private Task Post(Func<Task> work)
    {
        var started = new TaskCompletionSource<Task>();
        _post!(() =>
        {
            try
            {
                started.SetResult(work());
            }
            catch (Exception e)
            {
                started.SetException(e);
            }
        });
        return started.Task.Unwrap();
    }
}

namespace EngineSkeleton.Server.Engine;

/// <summary>
/// One lock for newPayload and one for forkchoiceUpdated, so that a slow import does not hold up forkchoice.
/// Waits are bounded: a call that cannot get its lock in time answers SYNCING, never a -32000 "busy" (docs/sync.md).
/// </summary>
internal sealed class EngineLocks(TimeProvider time)
{
    /// <summary>Half the 8 s Engine API timeout of the consensus client, so the SYNCING answer still reaches it.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(4);

    private readonly SemaphoreSlim _newPayload = new(1, 1);
    private readonly SemaphoreSlim _forkchoice = new(1, 1);

    public Task<T> WithNewPayloadLock<T>(Func<T> work, T whenBusy) => Run(_newPayload, work, whenBusy);

    public Task<T> WithForkchoiceLock<T>(Func<Task<T>> work, T whenBusy) => Run(_forkchoice, work, whenBusy);

    private Task<T> Run<T>(SemaphoreSlim gate, Func<T> work, T whenBusy) => Run(gate, () => Task.FromResult(work()), whenBusy);

    private async Task<T> Run<T>(SemaphoreSlim gate, Func<Task<T>> work, T whenBusy)
    {
        using var timeout = new CancellationTokenSource(MaxWait, time);
        try
        {
            await gate.WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return whenBusy;
        }
        try
        {
            return await work().ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }
}

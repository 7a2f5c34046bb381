using System.Text.Json;
using EngineSkeleton.Server.Rpc;
using StreamJsonRpc;

namespace EngineSkeleton.Server.Tests.Rpc;

/// <summary>A small RPC target shaped like the engine handlers: JsonElement parameters with defaults, records out.</summary>
internal sealed class TestTarget
{
    private TaskCompletionSource<bool>? _release;

    public TaskCompletionSource<int> NotificationRan { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    [JsonRpcMethod("test_echo")]
    public static JsonElement Echo(JsonElement value = default) =>
        value.ValueKind == JsonValueKind.Undefined ? throw RpcException.InvalidParams("missing value for required argument 0") : value;

    [JsonRpcMethod("test_add")]
    public static long Add(long a, long b) => a + b;

    /// <summary>Reports the kind each positional argument arrived as, so a test can see what a missing one becomes.</summary>
    [JsonRpcMethod("test_kinds")]
    public static string[] Kinds(JsonElement first = default, JsonElement second = default) =>
        [first.ValueKind.ToString(), second.ValueKind.ToString()];

    [JsonRpcMethod("test_throws")]
    public static object Throws() => throw new RpcException(RpcErrorCodes.UnknownPayload, "Unknown payload", new PayloadError("0x01"));

    [JsonRpcMethod("test_crash")]
    public static object Crash() => throw new InvalidOperationException("secret internal detail");

    [JsonRpcMethod("test_record")]
    public static async Task<PayloadError> RecordAsync(JsonElement hash = default)
    {
        await Task.Yield();
        // The element must outlive the request buffer: read it after an await.
        return new PayloadError(hash.GetString() ?? "null");
    }

    [JsonRpcMethod("test_notify")]
    public void Notify(int value) => NotificationRan.TrySetResult(value);

    /// <summary>Waits until the test releases it, so tests can hold requests in flight.</summary>
    [JsonRpcMethod("test_wait")]
    public async Task<string> WaitAsync(string tag)
    {
        var release = Volatile.Read(ref _release) ?? throw new InvalidOperationException("not armed");
        await release.Task.ConfigureAwait(false);
        return tag;
    }

    public TaskCompletionSource<bool> BlockStarted { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<bool> BlockCancelled { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Runs until its CancellationToken fires, reporting both moments.</summary>
    [JsonRpcMethod("test_block")]
    public async Task<string> BlockAsync(CancellationToken cancellationToken)
    {
        BlockStarted.TrySetResult(true);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            return "unreachable";
        }
        catch (OperationCanceledException)
        {
            BlockCancelled.TrySetResult(true);
            throw;
        }
    }

    public void ResetBlock()
    {
        BlockStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        BlockCancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public void Arm() => Volatile.Write(ref _release, new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously));

    public void Release() => _release?.TrySetResult(true);

    /// <summary>Not attributed: must not be callable.</summary>
    public static string Hidden() => "hidden";
}

internal sealed record PayloadError(string Hash);

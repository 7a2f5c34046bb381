using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Simulation.Tests.Runtime;
using EngineSkeleton.Sync.Peers;
using EngineSkeleton.Testing.Chains;

namespace EngineSkeleton.Simulation.Tests.World;

/// <summary>
/// Our process's connection to a <see cref="RemoteNode"/>: every request is answered after a latency drawn in virtual
/// time, as a timed action of the connecting process (it dies with it), or never (a stall, until cancelled). Answers
/// and their faults are drawn from the simulation's one <see cref="Random"/> when the request is made. Tasks complete
/// on the simulation's thread, continuations inline, so nothing here hands work to another thread.
/// </summary>
internal sealed class SimPeer(RemoteNode node, BlockTree tree, SimRuntime runtime, SimProcessId owner, Random random, Action<string> note) : ISyncPeer
{
    private static readonly BlockBody Corrupt = GeneratedChain.EmptyBody with { Transactions = [[0xc0]] };

    /// <summary>The node went away: every request fails from now on.</summary>
    public bool Disconnected { get; set; }

    public string Id => node.Id;

    public int MaxRequests => node.MaxRequests;

    public Task<IReadOnlyList<BlockHeader>> GetHeadersReverseAsync(ulong origin, int count, CancellationToken cancellationToken)
    {
        var (answer, fault) = Headers(origin, count);
        return Answer<IReadOnlyList<BlockHeader>>(answer, fault, $"headers {origin}/{count}", cancellationToken);
    }

    public Task<BlockHeader?> GetHeaderByHashAsync(Hash256 hash, CancellationToken cancellationToken)
    {
        BlockHeader? found = null;
        if (tree.NumberOf(hash) is { } number && number <= node.Height && number <= tree.Tip(node.Branch) && tree.At(node.Branch, number).Hash == hash)
        {
            found = tree.At(node.Branch, number);
        }
        return Answer(found, Fault.None, "header by hash", cancellationToken);
    }

    public Task<IReadOnlyList<BlockBody?>> GetBodiesAsync(IReadOnlyList<Hash256> hashes, CancellationToken cancellationToken)
    {
        var fault = DrawFault(bodies: true);
        var bodies = new List<BlockBody?>(hashes.Count);
        foreach (var hash in hashes)
        {
            // The node has a body if the block is on its branch within its height.
            var has = tree.NumberOf(hash) is { } number && number <= node.Height && number <= tree.Tip(node.Branch)
                && tree.At(node.Branch, number).Hash == hash;
            if (!has)
            {
                break;
            }
            bodies.Add(GeneratedChain.EmptyBody);
        }
        switch (fault)
        {
            case Fault.Empty:
                bodies.Clear();
                break;
            case Fault.Short when bodies.Count > 1:
                var kept = random.Next(1, bodies.Count);
                bodies.RemoveRange(kept, bodies.Count - kept);
                break;
            case Fault.Garbage or Fault.OtherBranch when bodies.Count > 0:
                bodies[random.Next(bodies.Count)] = Corrupt;
                break;
            default:
                break;
        }
        return Answer<IReadOnlyList<BlockBody?>>(bodies, fault, $"bodies {hashes.Count}", cancellationToken);
    }

    private (IReadOnlyList<BlockHeader> Answer, Fault Fault) Headers(ulong origin, int count)
    {
        var fault = DrawFault(bodies: false);
        var branch = fault == Fault.OtherBranch ? random.Next(tree.Branches.Count) : node.Branch;
        var top = Math.Min(node.Height, tree.Tip(branch));
        if (origin > top || fault == Fault.Empty)
        {
            return ([], fault); // lacks the range: an honest empty answer
        }
        var headers = new List<BlockHeader>(count);
        for (var i = 0; i < count && origin >= (ulong)i; i++)
        {
            headers.Add(tree.At(branch, origin - (ulong)i));
        }
        switch (fault)
        {
            case Fault.Short when headers.Count > 1:
                var keep = random.Next(1, headers.Count);
                headers.RemoveRange(keep, headers.Count - keep);
                break;
            case Fault.Garbage:
                Garble(headers, branch, origin);
                break;
            default:
                break;
        }
        return (headers, fault);
    }

    /// <summary>Breaks an answer one of the ways a buggy or hostile peer does.</summary>
    private void Garble(List<BlockHeader> headers, int branch, ulong origin)
    {
        switch (random.Next(4))
        {
            case 0 when headers.Count > 1:
                var i = random.Next(headers.Count - 1);
                (headers[i], headers[i + 1]) = (headers[i + 1], headers[i]); // out of order: not linked
                break;
            case 1 when origin + 1 <= tree.Tip(branch):
                headers.Insert(0, tree.At(branch, origin + 1)); // starts above the origin, one too many
                headers.RemoveAt(headers.Count - 1);
                break;
            case 2:
                var j = random.Next(headers.Count);
                headers[j] = headers[j] with { GasLimit = headers[j].GasLimit + 1 }; // tampered: its hash moves
                break;
            default:
                headers.RemoveAt(0); // starts below the origin
                break;
        }
    }

    private Fault DrawFault(bool bodies)
    {
        if (Disconnected)
        {
            return Fault.Fails;
        }
        var roll = random.NextDouble();
        (Fault Fault, double Chance)[] table = bodies
            ? [(Fault.Empty, node.Empty), (Fault.Short, node.Short), (Fault.Garbage, node.BadBodies), (Fault.Fails, node.Fails), (Fault.Stalls, node.Stalls), (Fault.Slow, node.Slow)]
            : [(Fault.Empty, node.Empty), (Fault.Short, node.Short), (Fault.Garbage, node.Garbage), (Fault.OtherBranch, node.OtherBranch), (Fault.Fails, node.Fails), (Fault.Stalls, node.Stalls), (Fault.Slow, node.Slow)];
        foreach (var (fault, chance) in table)
        {
            if (roll < chance)
            {
                return fault;
            }
            roll -= chance;
        }
        return Fault.None;
    }

    private Task<T> Answer<T>(T answer, Fault fault, string what, CancellationToken token)
    {
        // No RunContinuationsAsynchronously: the caller's continuation runs inline, on the simulation's thread.
        runtime.CheckThread($"{node.Id} asked {what}");
        var reply = new TaskCompletionSource<T>();
        if (token.IsCancellationRequested)
        {
            reply.SetCanceled(token);
            return reply.Task;
        }
        var registration = token.Register(() => reply.TrySetCanceled(token));
        note($"{node.Id} asked {what}: {fault}");
        if (fault == Fault.Stalls)
        {
            return reply.Task; // answers only its cancellation
        }
        var latency = node.LatencyMin - (node.LatencyMean * Math.Log(1 - random.NextDouble()));
        if (fault == Fault.Slow)
        {
            latency += 60_000 + random.Next(30_000);
        }
        var due = runtime.Now + TimeSpan.FromMilliseconds(latency).Ticks;
        runtime.At(due, owner, () =>
        {
            registration.Dispose();
            if (fault == Fault.Fails)
            {
                reply.TrySetException(new PeerException(Disconnected ? "disconnected" : "simulated transport error"));
            }
            else
            {
                reply.TrySetResult(answer);
            }
        }, "answer");
        return reply.Task;
    }

    private enum Fault
    {
        None,
        Empty,
        Short,
        Garbage,
        OtherBranch,
        Fails,
        Stalls,
        Slow,
    }
}

using EngineSkeleton.Core.Blocks;

namespace EngineSkeleton.Simulation.Tests.World;

/// <summary>
/// A node on the simulated network, as our node's peers see it; it outlives our process (a restarted node connects to
/// it again). It follows one branch up to <see cref="Height"/>; its faults are per-request chances drawn once from the
/// seed: empty, short, garbage (misordered, shifted, tampered, oversized) or another branch's (unlinked) headers,
/// bodies that break their roots, errors, stalls, and answers slower than any timeout.
/// </summary>
internal sealed class RemoteNode(string id)
{
    public string Id { get; } = id;

    public int Branch { get; set; }

    public ulong Height { get; set; }

    /// <summary>Follows the beacon node's head (honest nodes do, with <see cref="Lag"/> blocks behind).</summary>
    public bool Follows { get; init; }

    public ulong Lag { get; init; }

    /// <summary>Added with --sync.rpc: re-admitted after a drop.</summary>
    public bool Configured { get; init; }

    /// <summary>Connected now (joins and leaves move it).</summary>
    public bool Joined { get; set; }

    public double Empty { get; init; }

    public double Short { get; init; }

    public double Garbage { get; init; }

    public double OtherBranch { get; init; }

    public double Fails { get; init; }

    public double Stalls { get; init; }

    public double Slow { get; init; }

    public double BadBodies { get; init; }

    /// <summary>Round trip: <see cref="LatencyMin"/> plus an exponential tail of mean <see cref="LatencyMean"/>, in ms.</summary>
    public double LatencyMin { get; init; }

    public double LatencyMean { get; init; }

    /// <summary>
    /// Requests it takes at once (<see cref="Sync.Peers.ISyncPeer.MaxRequests"/>): 1 to 3, read off its latency so that
    /// no draw is added to the seed's stream (every recorded seed replays as before).
    /// </summary>
    public int MaxRequests => 1 + ((int)LatencyMin % 3);

    public bool Has(BlockTree tree, BlockHeader header) =>
        header.Number <= Height && header.Number <= tree.Tip(Branch) && tree.At(Branch, header.Number).Hash == header.Hash;

    /// <summary>A well-behaved node on the beacon node's branch, with everything: added at the end of a schedule.</summary>
    public static RemoteNode Rescue(int branch, ulong height) => new("rescue")
    {
        Branch = branch,
        Height = height,
        Follows = true,
        LatencyMin = 5,
        LatencyMean = 20,
    };

    /// <summary>A node with faults drawn from <paramref name="random"/>; about half are honest apart from their latency.</summary>
    public static RemoteNode Draw(string id, Random random, int branch, ulong height, int branches)
    {
        var honest = random.NextDouble() < 0.5;
        double Chance(double max) => honest ? 0 : random.NextDouble() < 0.5 ? 0 : random.NextDouble() * max;
        var follows = honest || random.NextDouble() < 0.7;
        return new RemoteNode(id)
        {
            Branch = follows ? branch : random.Next(branches),
            Height = height,
            Follows = follows,
            Lag = random.NextDouble() < 0.3 ? (ulong)random.Next(1, 200) : 0,
            Configured = random.NextDouble() < 0.5,
            Empty = Chance(0.3),
            Short = Chance(0.3),
            Garbage = Chance(0.2),
            OtherBranch = Chance(0.2),
            Fails = Chance(0.2),
            Stalls = Chance(0.1),
            Slow = Chance(0.1),
            BadBodies = Chance(0.2),
            LatencyMin = random.Next(1, 500),
            LatencyMean = random.Next(1, random.NextDouble() < 0.3 ? 10_000 : 2_000),
        };
    }
}

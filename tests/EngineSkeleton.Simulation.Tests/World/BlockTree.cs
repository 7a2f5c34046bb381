using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Validation;
using EngineSkeleton.Testing.Chains;

namespace EngineSkeleton.Simulation.Tests.World;

/// <summary>
/// Every block the simulated network knows: a main chain and side branches forking off it (and off each other), each
/// indexed by number from the genesis, generated once per test run and shared by all seeds (a seed picks among them).
/// Bodies are empty throughout: what the sync checks of them is their roots, and an empty body has roots all the same.
/// </summary>
internal sealed class BlockTree
{
    private static readonly Lazy<BlockTree> ShortTree = new(
        () => new BlockTree(700, [(0, 30, 200), (0, 200, 400), (0, 450, 300), (0, 560, 250), (0, 650, 120), (2, 350, 250), (4, 700, 150)]),
        LazyThreadSafetyMode.ExecutionAndPublication);

    // Subchains longer than a 512-header task, so that a newer subchain's tail lands inside an older one and the merge
    // has to decide by the stored header whether they link.
    private static readonly Lazy<BlockTree> LongTree = new(
        () => new BlockTree(2_600, [(0, 300, 1_200), (0, 1_100, 1_700), (0, 1_900, 900), (0, 2_400, 300), (2, 1_700, 1_000), (1, 1_000, 1_400)]),
        LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly Dictionary<Hash256, (int Branch, ulong Number)> _index = [];

    /// <param name="mainTip">The main chain's highest number.</param>
    /// <param name="forks">Branches by the branch they fork off (0: main), the number they fork at, and their length.</param>
    private BlockTree(ulong mainTip, (int Of, ulong At, ulong Length)[] forks)
    {
        var main = GeneratedChain.Headers(mainTip + 1);
        var branches = new List<IReadOnlyList<BlockHeader>> { main };
        for (var i = 0; i < forks.Length; i++)
        {
            var (of, at, length) = forks[i];
            branches.Add(GeneratedChain.Fork(branches[of], at, length, seed: (ulong)(i + 1)));
        }
        Branches = branches;
        for (var b = 0; b < branches.Count; b++)
        {
            var branch = branches[b];
            for (var n = 0; n < branch.Count; n++)
            {
                _index.TryAdd(branch[n].Hash, (b, (ulong)n));
            }
        }
        Validator = new BlockValidator(GeneratedChain.SpecFor(main));
        Genesis = new Block(main[0], GeneratedChain.EmptyBody);
    }

    /// <summary>700 main-chain blocks and seven branches (one off a fork): two header tasks, six fill runs.</summary>
    public static BlockTree Short => ShortTree.Value;

    /// <summary>2,600 main-chain blocks and six branches: subchains longer than a task.</summary>
    public static BlockTree Long => LongTree.Value;


    /// <summary>Branch 0 is the main chain; every branch is indexed by number from the genesis.</summary>
    public IReadOnlyList<IReadOnlyList<BlockHeader>> Branches { get; }

    public BlockValidator Validator { get; }

    public Block Genesis { get; }

    public ulong Tip(int branch) => (ulong)Branches[branch].Count - 1;

    public BlockHeader At(int branch, ulong number) => Branches[branch][(int)number];

    /// <summary>The number of a block the network knows, or null.</summary>
    public ulong? NumberOf(Hash256 hash) => _index.TryGetValue(hash, out var at) ? at.Number : null;

    /// <summary>Whether the network knows this block (every block it knows is valid).</summary>
    public bool Knows(Hash256 hash) => _index.ContainsKey(hash);

    /// <summary>The ancestor of <paramref name="head"/> (a block of the network) at <paramref name="number"/>.</summary>
    public BlockHeader AncestorAt(BlockHeader head, ulong number) => Branches[_index[head.Hash].Branch][(int)number];

    /// <summary>Whether <paramref name="ancestor"/> is <paramref name="head"/> or one of its ancestors.</summary>
    public bool Descends(BlockHeader head, Hash256 ancestor, ulong ancestorNumber)
    {
        if (!_index.TryGetValue(head.Hash, out var at) || ancestorNumber > head.Number)
        {
            return false;
        }
        return Branches[at.Branch][(int)ancestorNumber].Hash == ancestor;
    }

    /// <summary>Whether branches <paramref name="a"/> and <paramref name="b"/> hold the same block at <paramref name="number"/>.</summary>
    public bool Share(int a, int b, ulong number) =>
        number <= Tip(a) && number <= Tip(b) && At(a, number).Hash == At(b, number).Hash;
}

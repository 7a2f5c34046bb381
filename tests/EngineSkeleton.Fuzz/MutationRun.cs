namespace EngineSkeleton.Fuzz;

/// <summary>One input that escaped its target's documented refusals: the bytes, where they came from, what was thrown.</summary>
internal sealed record FuzzFailure(string Origin, byte[] Input, Exception Error)
{
    public override string ToString() =>
        $"{Origin}: {Error.GetType().Name}: {Error.Message} (input {Input.Length} bytes: {Convert.ToHexStringLower(Input.AsSpan(0, Math.Min(Input.Length, 512)))})";
}

/// <summary>
/// The uninstrumented run: every corpus file, then <c>iterations</c> seeded mutations of corpus files (and of what
/// earlier mutations produced), each run through the target once. No clock is read; the run is bounded by count.
/// </summary>
internal static class MutationRun
{
    /// <summary>Mutations kept as further parents, at most: enough variety without unbounded memory.</summary>
    private const int MaxPool = 4096;

    public static IReadOnlyList<FuzzFailure> Run(FuzzTarget target, IReadOnlyList<(string Name, byte[] Bytes)> corpus, int iterations, int seed, out int executions)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(corpus);
        var failures = new List<FuzzFailure>();
        executions = 0;
        foreach (var (name, bytes) in corpus)
        {
            Execute(target, $"corpus/{target.Name}/{name}", bytes, failures);
            executions++;
        }
        var pool = corpus.Select(c => c.Bytes).DefaultIfEmpty([]).ToList();
        var mutator = new Mutator(seed);
        var random = new Random(seed ^ 0x5eed);
        for (var i = 0; i < iterations; i++)
        {
            var parent = pool[random.Next(pool.Count)];
            var other = pool[random.Next(pool.Count)];
            var input = mutator.Mutate(parent, other);
            if (Execute(target, $"seed {seed} iteration {i}", input, failures) && pool.Count < MaxPool && random.Next(8) == 0)
            {
                pool.Add(input);
            }
            executions++;
        }
        return failures;
    }

    /// <summary>Runs one input; false (and a failure recorded) when it escaped the target's refusals.</summary>
    public static bool Execute(FuzzTarget target, string origin, byte[] input, List<FuzzFailure> failures)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(failures);
        try
        {
            target.Run(input);
            return true;
        }
#pragma warning disable CA1031 // Any exception that escapes a target is the finding being collected.
        catch (Exception e)
#pragma warning restore CA1031
        {
            failures.Add(new FuzzFailure(origin, input, e));
            return false;
        }
    }

    /// <summary>The committed seeds of a target: corpus/&lt;target&gt;/* beside the assembly, sorted by name.</summary>
    public static IReadOnlyList<(string Name, byte[] Bytes)> LoadCorpus(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return [];
        }
        return [.. Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f)))];
    }

    public static string CorpusDirectory(string target) => Path.Combine(AppContext.BaseDirectory, "corpus", target);
}

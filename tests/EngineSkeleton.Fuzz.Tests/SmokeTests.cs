using System.Globalization;
using Xunit.Abstractions;

namespace EngineSkeleton.Fuzz.Tests;

/// <summary>
/// The CI smoke run of every fuzz target (docs/fuzzing.md), uninstrumented: its committed corpus, then seeded
/// mutations. Each input must end in the decoder's documented refusal or in an acceptance that keeps the target's
/// invariants; anything else fails with the seed, the iteration and the input in hex. Inputs are at most
/// <see cref="FuzzTarget.MaxInputSize"/> bytes and the count is fixed, so the run is bounded without a clock.
/// FUZZ_SMOKE_ITERATIONS and FUZZ_SMOKE_SEED size and vary it for longer local runs.
/// </summary>
public sealed class SmokeTests(ITestOutputHelper output)
{
    /// <summary>Mutations per target by default: about a second per target on the shared 2-core machine.</summary>
    private const int DefaultIterations = 5_000;

    private const int DefaultSeed = 20261202;

    public static TheoryData<string> Targets() => [.. FuzzTargets.All.Select(t => t.Name)];

    [Theory]
    [MemberData(nameof(Targets))]
    public void Corpus_and_seeded_mutations_end_only_in_documented_refusals(string name)
    {
        var target = FuzzTargets.Find(name)!;
        var iterations = FromEnvironment("FUZZ_SMOKE_ITERATIONS", DefaultIterations);
        var seed = FromEnvironment("FUZZ_SMOKE_SEED", DefaultSeed);
        var corpus = MutationRun.LoadCorpus(MutationRun.CorpusDirectory(name));

        var all = MutationRun.Run(target, corpus, iterations, seed, out var executions);
        var known = all.Where(f => KnownFindings.Match(name, f.Error) is not null).ToList();
        var failures = all.Except(known).ToList();

        output.WriteLine($"{name}: seed {seed}, {corpus.Count} corpus files, {executions} executions, {failures.Count} failures, {known.Count} known findings");
        Assert.NotEmpty(corpus);
        Assert.True(failures.Count == 0, string.Join('\n', failures.Take(3)));
    }

    /// <summary>
    /// A known finding that stops reproducing has been fixed: its entry and its skip must go. (Every finding so far is
    /// fixed and the list is empty; a finding left open for its owner is added there with a skipped regression test.)
    /// </summary>
    [Fact]
    public void Each_known_finding_still_reproduces_until_its_fix_removes_it()
    {
        foreach (var finding in KnownFindings.All)
        {
            var target = FuzzTargets.Find(finding.Target)!;
            var failures = new List<FuzzFailure>();

            var passed = MutationRun.Execute(target, finding.RegressionTest, Convert.FromHexString(finding.Reproducer), failures);

            Assert.False(passed, $"{finding.ThrownIn} no longer throws {finding.Exception.Name}: remove it from KnownFindings and unskip {finding.RegressionTest}");
            Assert.True(finding.Matches(finding.Target, failures[0].Error), failures[0].ToString());
        }
    }

    [Fact]
    public void Every_target_has_a_corpus_folder_and_every_folder_a_target()
    {
        var folders = Directory.EnumerateDirectories(Path.Combine(AppContext.BaseDirectory, "corpus")).Select(Path.GetFileName).Order(StringComparer.Ordinal);

        Assert.Equal(FuzzTargets.All.Select(t => t.Name).Order(StringComparer.Ordinal), folders);
    }

    [Fact]
    public void A_target_that_throws_an_undocumented_exception_is_reported_with_its_input()
    {
        var failing = new FuzzTarget("throws", "a decoder with a bug", input =>
        {
            if (input.Length > 3)
            {
                throw new IndexOutOfRangeException();
            }
        });

        var failures = MutationRun.Run(failing, [("four", [1, 2, 3, 4]), ("one", [1])], 0, 1, out var executions);

        Assert.Equal(2, executions);
        var failure = Assert.Single(failures);
        Assert.Equal("corpus/throws/four", failure.Origin);
        Assert.IsType<IndexOutOfRangeException>(failure.Error);
        Assert.Contains("01020304", failure.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_seed_mutates_the_same_way()
    {
        byte[] parent = [0xc3, 0x01, 0x02, 0x03];

        var first = Mutations(new Mutator(7), parent, 50);
        var second = Mutations(new Mutator(7), parent, 50);

        Assert.Equal(first, second);
        Assert.Contains(first, m => !m.AsSpan().SequenceEqual(parent));
        Assert.All(first, m => Assert.True(m.Length <= FuzzTarget.MaxInputSize));
    }

    private static List<byte[]> Mutations(Mutator mutator, byte[] parent, int count)
    {
        var mutations = new List<byte[]>();
        for (var i = 0; i < count; i++)
        {
            mutations.Add(mutator.Mutate(parent, parent));
        }
        return mutations;
    }

    private static int FromEnvironment(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= 0 ? value : fallback;
}

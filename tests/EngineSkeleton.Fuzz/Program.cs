using System.Globalization;
using EngineSkeleton.Fuzz;
using SharpFuzz;

// EngineSkeleton.Fuzz: the fuzz targets of docs/fuzzing.md behind one command line.
//   list                                   the targets
//   <target> libfuzzer                     under libfuzzer-dotnet (SharpFuzz-instrumented assemblies)
//   <target> afl                           under afl-fuzz (SharpFuzz-instrumented assemblies)
//   <target> run FILE|DIR...               replay inputs (a crash's file, a corpus), say what each did
//   <target|all> mutate ITERATIONS [SEED]  the in-process, uninstrumented mutation run of the smoke tests
//   seed CORPUS_DIR CHAIN_RLP              rewrite the seed corpus
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.Error.WriteLine("usage: EngineSkeleton.Fuzz list | <target> (libfuzzer | afl | run FILE... | mutate N [SEED]) | seed CORPUS_DIR CHAIN_RLP");
    return 2;
}

if (args[0] == "list")
{
    foreach (var t in FuzzTargets.All)
    {
        Console.WriteLine($"{t.Name,-16} {t.Decoder}");
    }
    return 0;
}

if (args[0] == "seed" && args.Length == 3)
{
    SeedCorpus.Write(args[1], args[2]);
    return 0;
}

if (args.Length < 2)
{
    Console.Error.WriteLine("a target name and a mode are needed; 'list' names the targets");
    return 2;
}

if (args[0] == "all" && args[1] == "mutate")
{
    var worst = 0;
    foreach (var t in FuzzTargets.All)
    {
        worst = Math.Max(worst, Mutate(t, args[2..]));
    }
    return worst;
}

var target = FuzzTargets.Find(args[0]);
if (target is null)
{
    Console.Error.WriteLine($"no target '{args[0]}'; 'list' names them");
    return 2;
}

switch (args[1])
{
    case "libfuzzer":
        Fuzzer.LibFuzzer.Run(span => target.Run(span));
        return 0;
    case "afl":
        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            target.Run(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        });
        return 0;
    case "run":
        return Replay(target, args[2..]);
    case "mutate":
        return Mutate(target, args[2..]);
    default:
        Console.Error.WriteLine($"unknown mode '{args[1]}'");
        return 2;
}

static int Replay(FuzzTarget target, string[] paths)
{
    // AFL's README.txt sits beside the crash files it describes.
    var files = paths.SelectMany(p => Directory.Exists(p) ? Directory.EnumerateFiles(p).Order(StringComparer.Ordinal) : (IEnumerable<string>)[p])
        .Where(f => Path.GetFileName(f) != "README.txt").ToList();
    var failures = new List<FuzzFailure>();
    var known = 0;
    foreach (var file in files)
    {
        var before = failures.Count;
        if (MutationRun.Execute(target, file, File.ReadAllBytes(file), failures))
        {
            Console.WriteLine($"ok     {file}");
        }
        else if (KnownFindings.Match(target.Name, failures[before].Error) is { } finding)
        {
            known++;
            Console.WriteLine($"KNOWN  {file}: {failures[before].Error.GetType().Name} in {finding.ThrownIn} ({finding.RegressionTest})");
        }
        else
        {
            Console.WriteLine($"CRASH  {failures[before].Origin}\n{failures[before].Error}");
        }
    }
    var crashes = failures.Count - known;
    Console.WriteLine($"{files.Count - failures.Count} passed, {crashes} failed, {known} known findings");
    return crashes == 0 ? 0 : 1;
}

static int Mutate(FuzzTarget target, string[] rest)
{
    var iterations = rest.Length > 0 ? int.Parse(rest[0], CultureInfo.InvariantCulture) : 10_000;
    var seed = rest.Length > 1 ? int.Parse(rest[1], CultureInfo.InvariantCulture) : 1;
    var corpus = MutationRun.LoadCorpus(MutationRun.CorpusDirectory(target.Name));
    var failures = MutationRun.Run(target, corpus, iterations, seed, out var executions);
    Console.WriteLine($"{target.Name}: seed {seed}, {corpus.Count} corpus files, {executions} executions, {failures.Count} failures");
    foreach (var failure in failures.Take(5))
    {
        Console.WriteLine($"  {failure}");
    }
    return failures.Count == 0 ? 0 : 1;
}

namespace EngineSkeleton.Fuzz;

/// <summary>
/// A crash the fuzzers found whose fix belongs to code another owner is changing: reported, kept as a skipped
/// regression test in the owning project, and recognised here by where it is thrown, so that the smoke run stays a
/// gate for every other crash. An entry goes away with its fix (the smoke test then says it no longer reproduces).
/// </summary>
/// <param name="Target">The fuzz target that finds it.</param>
/// <param name="Exception">The escaping exception's type.</param>
/// <param name="ThrownIn">The product method it escapes from: "Type.Method", matched on the stack trace.</param>
/// <param name="RegressionTest">Where the skipped test that pins it lives.</param>
/// <param name="Reproducer">One input, in hex, that the target fails on.</param>
/// <param name="MessagePart">Part of the exception's message, where the type and place alone say too little.</param>
internal sealed record KnownFinding(string Target, Type Exception, string ThrownIn, string RegressionTest, string Reproducer, string? MessagePart = null)
{
    public bool Matches(string target, Exception error) =>
        target == Target
        && error.GetType() == Exception
        && (error.StackTrace?.Contains(ThrownIn, StringComparison.Ordinal) ?? false)
        && (MessagePart is null || error.Message.Contains(MessagePart, StringComparison.Ordinal));
}

internal static class KnownFindings
{
    public static IReadOnlyList<KnownFinding> All { get; } =
    [];

    public static KnownFinding? Match(string target, Exception error) => All.FirstOrDefault(k => k.Matches(target, error));
}

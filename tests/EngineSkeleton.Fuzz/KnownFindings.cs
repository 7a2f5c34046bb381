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
    [
        new(
            "rlpx-message",
            typeof(OverflowException),
            "RlpxConnection.Decompress",
            "tests/EngineSkeleton.Network.Tests/DevP2p/Rlpx/FuzzRegressionTests.cs",
            "011dfcd2d2831dfcd2d2991089fffcb9ca991089ff89ff"),
        new(
            "rpc-peer",
            typeof(InvalidOperationException),
            "EngineSkeleton.Network.Rpc.",
            "tests/EngineSkeleton.Network.Tests/Rpc/FuzzRegressionTests.cs",
            "005b7b226a736f6e727063223a22322e30222c226964223a302c22726573756c74223a2230786639ff227d5d",
            "invalid UTF-8"),
    ];

    public static KnownFinding? Match(string target, Exception error) => All.FirstOrDefault(k => k.Matches(target, error));
}

namespace EngineSkeleton.Fuzz;

/// <summary>Runs one input through a decoder; returns normally when the decoder accepts or refuses it as documented.</summary>
internal delegate void FuzzAction(ReadOnlySpan<byte> input);

/// <summary>
/// One fuzz target: a decoder that takes bytes from outside, wrapped so that its documented refusals (the exception
/// types its XML docs name for bad input) return normally and anything else escapes as a crash.
/// </summary>
/// <param name="Name">The command-line name and the corpus folder (corpus/&lt;name&gt;/).</param>
/// <param name="Decoder">What the target feeds, for docs/fuzzing.md and the listing.</param>
/// <param name="Run">The harness.</param>
internal sealed record FuzzTarget(string Name, string Decoder, FuzzAction Run)
{
    /// <summary>
    /// Largest input the mutation runs generate: above every wire limit that matters to these decoders (a 1,280-byte
    /// discv4 packet, a 300-byte ENR, a header of ~600 bytes) while keeping a smoke iteration cheap.
    /// </summary>
    public const int MaxInputSize = 16 * 1024;

    public override string ToString() => Name;
}

/// <summary>A decoder accepted input but broke a property that acceptance promises (e.g. decode then encode is the identity).</summary>
internal sealed class FuzzInvariantException : Exception
{
    public FuzzInvariantException()
    {
    }

    public FuzzInvariantException(string message)
        : base(message)
    {
    }

    public FuzzInvariantException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

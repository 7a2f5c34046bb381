namespace EngineSkeleton.Network.Discovery.Dns;

/// <summary>
/// Looks up the TXT records of a DNS name. Each string is one record's text with its character-strings joined (a TXT
/// record is sent as strings of at most 255 bytes; geth's resolver joins them too). A name without TXT records gives
/// an empty list; a failure to resolve throws (<see cref="IOException"/> or the resolver's own exception), which the
/// tree walker lets through: it is I/O, not bad input. Implementations honour cancellation.
/// </summary>
internal interface IDnsTxtResolver
{
    Task<IReadOnlyList<string>> ResolveTxtAsync(string name, CancellationToken cancellationToken);
}

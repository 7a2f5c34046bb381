using DnsClient;

namespace EngineSkeleton.Network.Discovery.Dns;

/// <summary>
/// TXT lookups through DnsClient, against the system's resolvers. Each record's character-strings are joined into
/// one text (EIP-1459 entries are longer than 255 bytes and split over several strings, as geth's resolver joins them).
/// </summary>
internal sealed class DnsClientTxtResolver : IDnsTxtResolver
{
    private readonly LookupClient _client;

    public DnsClientTxtResolver(TimeSpan timeout)
    {
        // Each lookup bounded; a truncated UDP answer is asked again over TCP (trees' branches can be long).
        _client = new LookupClient(new LookupClientOptions { Timeout = timeout, Retries = 2, UseCache = true, UseTcpFallback = true });
    }

    public async Task<IReadOnlyList<string>> ResolveTxtAsync(string name, CancellationToken cancellationToken)
    {
        IDnsQueryResponse response;
        try
        {
            response = await _client.QueryAsync(name, QueryType.TXT, QueryClass.IN, cancellationToken).ConfigureAwait(false);
        }
        catch (DnsResponseException e)
        {
            throw new IOException($"DNS lookup of {name} failed: {e.Message}", e);
        }
        if (response.HasError && response.Header.ResponseCode != DnsHeaderResponseCode.NotExistentDomain)
        {
            throw new IOException($"DNS lookup of {name} failed: {response.ErrorMessage}");
        }
        return [.. response.Answers.TxtRecords().Select(record => string.Concat(record.Text))];
    }
}

using EngineSkeleton.Network.Discovery.Enr;

namespace EngineSkeleton.Network.Discovery.Dns;

/// <summary>Bounds on one tree walk; a tree past them is refused, not cut short.</summary>
/// <param name="MaxEntries">
/// Entries resolved in one walk, root excluded: 10,000, each one DNS query. The public mainnet tree holds a few
/// thousand records; geth has no such bound but limits its query rate instead.
/// </param>
/// <param name="MaxDepth">
/// Branches below the root: 16. geth's trees put up to 13 children in a branch (dnsdisc maxChildren), so 16 levels
/// hold far more than <paramref name="MaxEntries"/>; a deeper tree is a chain built to make us query.
/// </param>
internal sealed record EnrTreeLimits(int MaxEntries = 10_000, int MaxDepth = 16)
{
    public static EnrTreeLimits Default { get; } = new();
}

/// <summary>A walked tree: its verified root, its node records and the links to other trees (not followed).</summary>
internal sealed record EnrTree(EnrTreeUrl Url, EnrTreeRoot Root, IReadOnlyList<EnrRecord> Records, IReadOnlyList<EnrTreeUrl> Links);

/// <summary>
/// Walks an EIP-1459 tree (Client Protocol): the root at the URL's domain, its signature against the URL's key, then
/// every entry under <c>e=</c> (branches and node records) and under <c>l=</c> (branches and links), each fetched at
/// <c>&lt;hash&gt;.&lt;domain&gt;</c> and checked against its hash. A hash met twice (a cycle, or a subtree hung in two
/// places), a record in the link subtree or a link in the record subtree, and a tree past <see cref="EnrTreeLimits"/>
/// are refused. Bad input throws <see cref="DiscoveryException"/>; the resolver's failures and cancellation pass through.
/// </summary>
internal sealed class EnrTreeWalker
{
    private readonly IDnsTxtResolver _resolver;
    private readonly EnrTreeLimits _limits;

    public EnrTreeWalker(IDnsTxtResolver resolver, EnrTreeLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        _resolver = resolver;
        _limits = limits ?? EnrTreeLimits.Default;
        ArgumentOutOfRangeException.ThrowIfNegative(_limits.MaxEntries);
        ArgumentOutOfRangeException.ThrowIfNegative(_limits.MaxDepth);
    }

    public async Task<EnrTree> WalkAsync(EnrTreeUrl url, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(url);
        var root = await ResolveRootAsync(url, cancellationToken).ConfigureAwait(false);
        var records = new List<EnrRecord>();
        var links = new List<EnrTreeUrl>();
        var visited = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<(string Hash, int Depth, bool Links)>();
        pending.Push((root.LinkRoot, 0, true));
        pending.Push((root.EnrRoot, 0, false));
        while (pending.TryPop(out var next))
        {
            if (!visited.Add(next.Hash))
            {
                throw Tree(DiscoveryError.BadTree, url, $"entry {next.Hash} is reached twice (a cycle or a shared subtree)");
            }
            if (visited.Count > _limits.MaxEntries)
            {
                throw Tree(DiscoveryError.TooLarge, url, $"more than {_limits.MaxEntries} entries");
            }
            var entry = await ResolveEntryAsync(url, next.Hash, cancellationToken).ConfigureAwait(false);
            switch (entry)
            {
                case EnrTreeBranch when next.Depth >= _limits.MaxDepth:
                    throw Tree(DiscoveryError.BadTree, url, $"branch {next.Hash} is deeper than {_limits.MaxDepth} levels");
                case EnrTreeBranch branch:
                    // Pushed in reverse so that children are walked in the order the branch lists them.
                    for (var i = branch.Children.Count - 1; i >= 0; i--)
                    {
                        pending.Push((branch.Children[i], next.Depth + 1, next.Links));
                    }
                    break;
                case EnrTreeLeaf leaf when !next.Links:
                    records.Add(leaf.Record);
                    break;
                case EnrTreeLink link when next.Links:
                    links.Add(link.Url);
                    break;
                case EnrTreeRoot:
                    throw Tree(DiscoveryError.BadTree, url, $"entry {next.Hash} is a second root");
                default:
                    throw Tree(DiscoveryError.BadTree, url, next.Links
                        ? $"entry {next.Hash} is a node record in the link subtree"
                        : $"entry {next.Hash} is a link in the node record subtree");
            }
        }
        return new EnrTree(url, root, records, links);
    }

    private async Task<EnrTreeRoot> ResolveRootAsync(EnrTreeUrl url, CancellationToken cancellationToken)
    {
        var texts = await _resolver.ResolveTxtAsync(url.Domain, cancellationToken).ConfigureAwait(false);
        foreach (var text in texts)
        {
            if (!text.StartsWith(EnrTreeEntry.RootPrefix, StringComparison.Ordinal))
            {
                continue;
            }
            var root = Parse(url, url.Domain, text) as EnrTreeRoot
                ?? throw Tree(DiscoveryError.Malformed, url, "the root record is not a root");
            if (!root.IsSignedBy(url))
            {
                throw Tree(DiscoveryError.BadSignature, url, "the root is not signed by the URL's key");
            }
            return root;
        }
        throw Tree(DiscoveryError.Missing, url, $"no {EnrTreeEntry.RootPrefix} record at {url.Domain}");
    }

    /// <summary>
    /// The entry at <c>hash.domain</c>: the first TXT record that looks like an entry must hash to the name (geth's
    /// resolveEntry); records of other kinds at the name are skipped.
    /// </summary>
    private async Task<EnrTreeEntry> ResolveEntryAsync(EnrTreeUrl url, string hash, CancellationToken cancellationToken)
    {
        var name = $"{hash}.{url.Domain}";
        var texts = await _resolver.ResolveTxtAsync(name, cancellationToken).ConfigureAwait(false);
        foreach (var text in texts)
        {
            if (!LooksLikeEntry(text))
            {
                continue;
            }
            if (!EnrTreeEntry.NameMatches(hash, text))
            {
                throw Tree(DiscoveryError.BadHash, url, $"the entry at {name} does not hash to its name");
            }
            return Parse(url, name, text);
        }
        throw Tree(DiscoveryError.Missing, url, $"no enrtree entry at {name}");
    }

    private static EnrTreeEntry Parse(EnrTreeUrl url, string name, string text)
    {
        try
        {
            return EnrTreeEntry.Parse(text);
        }
        catch (DiscoveryException e)
        {
            throw new DiscoveryException(e.Kind, $"{url}: the entry at {name}: {e.Message}", e);
        }
    }

    private static bool LooksLikeEntry(string text) =>
        text.StartsWith(EnrTreeEntry.RootPrefix, StringComparison.Ordinal)
        || text.StartsWith(EnrTreeEntry.BranchPrefix, StringComparison.Ordinal)
        || text.StartsWith(EnrTreeUrl.Scheme, StringComparison.Ordinal)
        || text.StartsWith(EnrRecord.TextPrefix, StringComparison.Ordinal);

    private static DiscoveryException Tree(DiscoveryError kind, EnrTreeUrl url, string message) => new(kind, $"{url}: {message}");
}

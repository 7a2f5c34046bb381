using EngineSkeleton.Network.Discovery.Dialing;
using EngineSkeleton.Network.Discovery.Enr;
using Microsoft.Extensions.Logging;

namespace EngineSkeleton.Network.Discovery.Dns;

/// <summary>
/// Syncs EIP-1459 trees and offers their records as dial candidates. Each tree is walked whole (root signature and
/// every entry's hash checked by <see cref="EnrTreeWalker"/>); a refused tree is logged with the reason and none of
/// it is used. Links to other trees are not followed (geth follows them; the trees it ships as defaults link to none).
/// </summary>
internal sealed partial class DnsDiscovery
{
    private readonly IReadOnlyList<EnrTreeUrl> _trees;
    private readonly EnrTreeWalker _walker;
    private readonly ILogger _logger;
    private int _records;

    public DnsDiscovery(IReadOnlyList<EnrTreeUrl> trees, IDnsTxtResolver resolver, ILogger logger, EnrTreeLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(trees);
        ArgumentNullException.ThrowIfNull(logger);
        _trees = trees;
        _walker = new EnrTreeWalker(resolver, limits);
        _logger = logger;
    }

    /// <summary>Records with a usable address found at the last sync of all trees.</summary>
    public int Records => Volatile.Read(ref _records);

    /// <summary>Walks every tree once; each usable record goes to <paramref name="offer"/>. A tree that fails does not stop the others.</summary>
    public async Task<int> SyncAsync(Action<DialCandidate> offer, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(offer);
        var total = 0;
        foreach (var url in _trees)
        {
            EnrTree tree;
            try
            {
                tree = await _walker.WalkAsync(url, ct).ConfigureAwait(false);
            }
            catch (DiscoveryException e)
            {
                Log.TreeRefused(_logger, url.ToString(), e.Kind.ToString(), e.Message);
                continue;
            }
            catch (Exception e) when (e is IOException or TimeoutException || (e is OperationCanceledException && !ct.IsCancellationRequested))
            {
                Log.TreeUnreachable(_logger, url.ToString(), e.Message);
                continue;
            }
            var usable = 0;
            foreach (var record in tree.Records)
            {
                if (ToCandidate(record) is { } candidate)
                {
                    usable++;
                    offer(candidate);
                }
            }
            total += usable;
            Log.TreeSynced(_logger, url.ToString(), tree.Root.Seq, tree.Records.Count, usable);
        }
        Volatile.Write(ref _records, total);
        return total;
    }

    /// <summary>A record we can dial: an IPv4 (else IPv6) address and a TCP port for it.</summary>
    internal static DialCandidate? ToCandidate(EnrRecord record)
    {
        if (record.Ip is { } ip && record.Tcp is { } tcp and > 0)
        {
            return new DialCandidate(record.PublicKey, ip, tcp, record, DialSource.Dns);
        }
        if (record.Ip6 is { } ip6 && (record.Tcp6 ?? record.Tcp) is { } tcp6 and > 0)
        {
            return new DialCandidate(record.PublicKey, ip6, tcp6, record, DialSource.Dns);
        }
        return null;
    }

    private static partial class Log
    {
        [LoggerMessage(940, LogLevel.Information, "DNS node list synced url={Url} seq={Seq} records={Records} dialable={Dialable}")]
        public static partial void TreeSynced(ILogger logger, string url, ulong seq, int records, int dialable);

        [LoggerMessage(941, LogLevel.Warning, "DNS node list refused url={Url} kind={Kind} reason={Reason}")]
        public static partial void TreeRefused(ILogger logger, string url, string kind, string reason);

        [LoggerMessage(942, LogLevel.Warning, "DNS node list unreachable url={Url} reason={Reason}")]
        public static partial void TreeUnreachable(ILogger logger, string url, string reason);
    }
}

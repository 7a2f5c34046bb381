using EngineSkeleton.Storage;
using EngineSkeleton.Storage.Chain;
using EngineSkeleton.Sync.Checkpoint;
using EngineSkeleton.Sync.Peers;

namespace EngineSkeleton.Server.Hosting;

/// <summary>
/// --sync.checkpoint at startup (README.md (flags)): a used datadir must already be anchored at the checkpoint (or hold it
/// canonical); a fresh one fetches the block from its peers before the listeners open and is anchored there.
/// </summary>
internal static class CheckpointAnchor
{
    /// <summary>
    /// How long a fresh datadir waits at startup for a peer to serve the checkpoint block: peers may be starting
    /// too, and without the anchor the node can answer nothing.
    /// </summary>
    public static readonly TimeSpan FetchBound = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Opens a used store at its anchor, or returns the checkpoint a fresh store still has to fetch. A used store
    /// neither anchored at the checkpoint nor holding it canonical is refused: the node would mix two chains.
    /// </summary>
    /// <exception cref="StoreException">The datadir belongs to another anchor.</exception>
    public static SyncCheckpoint? Initialize(ChainStore store, SyncCheckpoint checkpoint)
    {
        if (store.StoredAnchor is not { } stored)
        {
            return checkpoint;
        }
        if (store.GetBlock(checkpoint.Hash) is { } held && held.Header.Number == checkpoint.Number)
        {
            store.Initialize(held);
            if (store.GetCanonicalHash(checkpoint.Number) == checkpoint.Hash)
            {
                return null;
            }
        }
        throw new StoreException(
            $"the datadir holds the chain anchored at {stored}, which does not have --sync.checkpoint block {checkpoint} as canonical; use another --datadir");
    }

    /// <summary>Fetches the checkpoint block from the node's peers and anchors the fresh store there. Throws <see cref="StartupException"/>.</summary>
    public static async Task FetchAsync(IServiceProvider services, ChainStore store, SyncCheckpoint checkpoint, CancellationToken cancellationToken)
    {
        if (services.GetRequiredService<PeerSet>().Count == 0)
        {
            throw new StartupException($"--sync.checkpoint {checkpoint.Number}:{checkpoint.Hash} on a fresh datadir needs a --sync.rpc peer to fetch the block from");
        }
        var fetched = await services.GetRequiredService<CheckpointFetcher>().FetchAsync(checkpoint, FetchBound, cancellationToken).ConfigureAwait(false);
        if (fetched.Block is not { } block)
        {
            throw new StartupException(fetched.Error!);
        }
        try
        {
            store.Initialize(block);
        }
        catch (StoreException e)
        {
            throw new StartupException(e.Message, e);
        }
    }
}

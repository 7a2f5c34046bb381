namespace EngineSkeleton.Server.Observability;

/// <summary>
/// One thing an operator should act on, in one line (docs/operations.md, Diagnostics): a stable code for scripts
/// and alerts, the line itself, what it is about (a peer's id, or null), and since when it holds.
/// </summary>
internal sealed record Diagnostic(string Code, string Message, string? Subject, DateTimeOffset Since)
{
    /// <summary>No --sync.rpc and no devp2p node to dial, or no peer at all while an announced head waits.</summary>
    public const string NoSyncSource = "no-sync-source";

    /// <summary>A peer whose genesis or chain id is not ours: refused at its first contact.</summary>
    public const string PeerOnAnotherChain = "peer-other-chain";

    /// <summary>A --sync.rpc node that did not answer its first contact at startup, and has served nothing since.</summary>
    public const string PeerUnreachable = "peer-unreachable";

    /// <summary>
    /// The announced head's chain reached the block above our anchor and names another parent: the beacon node follows
    /// another network, or the datadir (or --sync.checkpoint) belongs to one. Found by the skeleton (its anotherChain).
    /// </summary>
    public const string HeadOnAnotherNetwork = "head-other-network";

    /// <summary>A peer the sync dropped, with the reason.</summary>
    public const string PeerDropped = "peer-dropped";

    /// <summary>No Engine API call passed JWT for <see cref="NodeDiagnostics.BeaconSilence"/>.</summary>
    public const string NoBeaconClient = "no-beacon-client";

    /// <summary>Every code, for the metrics' gauge (a closed set of series).</summary>
    public static IReadOnlyList<string> Codes { get; } = [NoSyncSource, HeadOnAnotherNetwork, PeerOnAnotherChain, PeerUnreachable, PeerDropped, NoBeaconClient];
}

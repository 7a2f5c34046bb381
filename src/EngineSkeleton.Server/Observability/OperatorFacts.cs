using EngineSkeleton.Core.Primitives;

namespace EngineSkeleton.Server.Observability;

/// <summary>
/// What the node was started with that its diagnostics and status page name: where sync sources were configured,
/// where the Engine API listens and which secret it checks, and the chain it follows.
/// </summary>
/// <param name="DataDir">The datadir, whose LiteDB files the metrics size.</param>
/// <param name="RpcPeers">The <c>--sync.rpc</c> URLs.</param>
/// <param name="Bootnodes">How many <c>--bootnodes</c> enodes the devp2p transport dials.</param>
/// <param name="EngineUrl">The Engine API's URL, as a consensus client is pointed at it.</param>
/// <param name="SecretPath">The JWT secret file both sides must share.</param>
/// <param name="Genesis">Our genesis hash.</param>
/// <param name="ChainId">Our chain id.</param>
internal sealed record OperatorFacts(string DataDir, IReadOnlyList<string> RpcPeers, int Bootnodes, string EngineUrl, string SecretPath, Hash256 Genesis, ulong ChainId)
{
    /// <summary>Neither a JSON-RPC peer nor a devp2p node to dial: only a peer that dials us could serve headers.</summary>
    public bool HasNoConfiguredSource => RpcPeers.Count == 0 && Bootnodes == 0;
}

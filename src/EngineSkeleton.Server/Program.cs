using EngineSkeleton.Server.Hosting;

namespace EngineSkeleton.Server;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args is ["--help"] or ["-h"])
        {
            Console.WriteLine(CommandLine.Help);
            return 0;
        }
        try
        {
            await using var node = NodeHost.Build(args);
            await node.StartAsync().ConfigureAwait(false);
            await node.App.WaitForShutdownAsync().ConfigureAwait(false);
            return 0;
        }
        catch (StartupException e)
        {
            await Console.Error.WriteLineAsync($"Fatal: {e.Message}").ConfigureAwait(false);
            return 2;
        }
    }
}

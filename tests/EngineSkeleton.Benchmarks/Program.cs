using BenchmarkDotNet.Running;
using EngineSkeleton.Benchmarks.Backfill;
using EngineSkeleton.Benchmarks.DevP2p;
using EngineSkeleton.Benchmarks.Hostile;
using EngineSkeleton.Benchmarks.Load;
using EngineSkeleton.Benchmarks.Skeleton;

namespace EngineSkeleton.Benchmarks;

public static class BenchmarkProgram
{
    public static int Main(string[] args)
    {
        // "load ..." is the HTTP load tool (Load/LoadCommand.cs), "skeleton ..." the header-sync macro benchmark
        // (Skeleton/SkeletonSyncCommand.cs), "backfill ..." the body backfill one (Backfill/BackfillCommand.cs),
        // "devp2p ..." the skeleton sync over loopback RLPx against in-process peers (DevP2p/DevP2pSyncCommand.cs);
        // everything else goes to BenchmarkDotNet.
        if (args.Length > 0 && args[0] == "load")
        {
            return LoadCommand.RunAsync(args[1..]).GetAwaiter().GetResult();
        }
        if (args.Length > 0 && args[0] == "hostile")
        {
            return HostileCommand.RunAsync(args[1..]).GetAwaiter().GetResult();
        }
        if (args.Length > 0 && args[0] == "skeleton")
        {
            return SkeletonSyncCommand.RunAsync(args[1..]).GetAwaiter().GetResult();
        }

        if (args.Length > 0 && args[0] == "backfill")
        {
            return BackfillCommand.RunAsync(args[1..]).GetAwaiter().GetResult();
        }

        if (args.Length > 0 && args[0] == "devp2p")
        {
            return DevP2pSyncCommand.RunAsync(args[1..]).GetAwaiter().GetResult();
        }

        if (args.Length > 0 && args[0] == "rpcsync") { return RpcSync.RpcSyncCommand.RunAsync(args[1..]).GetAwaiter().GetResult(); } // issue 15: sync from a JSON-RPC peer, end to end

        BenchmarkSwitcher.FromAssembly(typeof(BenchmarkProgram).Assembly).Run(args);
        return 0;
    }
}

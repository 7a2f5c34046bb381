using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("EngineSkeleton.Sync.Tests")]
[assembly: InternalsVisibleTo("EngineSkeleton.SyncHost")]
[assembly: InternalsVisibleTo("EngineSkeleton.Testing")]
[assembly: InternalsVisibleTo("EngineSkeleton.Network.Tests")]
[assembly: InternalsVisibleTo("EngineSkeleton.Benchmarks")]
[assembly: InternalsVisibleTo("EngineSkeleton.Server.Tests")]
[assembly: InternalsVisibleTo("EngineSkeleton.EndToEnd.Tests")]
[assembly: InternalsVisibleTo("EngineSkeleton.Simulation.Tests")]

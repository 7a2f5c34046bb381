using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("EngineSkeleton.Core.Tests")]
[assembly: InternalsVisibleTo("EngineSkeleton.SyncHost")]
[assembly: InternalsVisibleTo("EngineSkeleton.Benchmarks")]
[assembly: InternalsVisibleTo("EngineSkeleton.Server.Tests")]

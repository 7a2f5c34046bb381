using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("EngineSkeleton.Storage.Tests")]
[assembly: InternalsVisibleTo("EngineSkeleton.Sync.Tests")]
[assembly: InternalsVisibleTo("EngineSkeleton.Server.Tests")]
[assembly: InternalsVisibleTo("EngineSkeleton.EndToEnd.Tests")]
[assembly: InternalsVisibleTo("EngineSkeleton.Simulation.Tests")]

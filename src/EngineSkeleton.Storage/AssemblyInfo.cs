using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("EngineSkeleton.Storage.Tests")]
[assembly: InternalsVisibleTo("EngineSkeleton.Sync.Tests")]

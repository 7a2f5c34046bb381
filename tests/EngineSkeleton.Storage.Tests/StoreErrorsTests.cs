namespace EngineSkeleton.Storage.Tests;

public sealed class StoreErrorsTests
{
    [Theory]
    [InlineData("ENOSPC on Linux is a full disk, named with its directory and what the operator does", 28, StoreFaultKind.DiskFull, "disk full at /data: the skeleton store could not write; free space and the sync resumes")]
    [InlineData("EDQUOT (a spent quota) is a full disk to the operator", 122, StoreFaultKind.DiskFull, "disk full at /data")]
    [InlineData("Windows' ERROR_DISK_FULL too", unchecked((int)0x80070070), StoreFaultKind.DiskFull, "disk full at /data")]
    [InlineData("EIO is an I/O error that names the file", 5, StoreFaultKind.IoError, "I/O error writing the skeleton store at /data/skeleton.db")]
    [InlineData("EAGAIN on a lock is another process holding the file", 11, StoreFaultKind.Locked, "skeleton store /data/skeleton.db is locked by another process: stop it and the sync resumes")]
    public void An_environment_failure_is_named_in_words_an_operator_acts_on(string proves, int hresult, StoreFaultKind kind, string start)
    {
        Assert.NotEmpty(proves);
        var error = StoreErrors.Environment(new AggregateException(new IOException("disk said no", hresult)), "skeleton store", "/data/skeleton.db");

        Assert.NotNull(error);
        Assert.Equal(kind, error.Kind);
        Assert.StartsWith(start, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_failure_that_is_not_the_environment_s_is_left_as_it_is()
    {
        Assert.Null(StoreErrors.Environment(new InvalidOperationException("a bug"), "chain store", "/data/chain.db"));
        Assert.Null(StoreErrors.Environment(new LiteDB.LiteException(0, "corrupt page"), "chain store", "/data/chain.db"));
    }
}

namespace EngineSkeleton.Server.Tests.Observability;

/// <summary>The test's own Prometheus text parser, checked on the format's examples and on what it must refuse.</summary>
public sealed class PrometheusTextTests
{
    private const string Example = """
        # HELP http_requests_total The total number of HTTP requests.
        # TYPE http_requests_total counter
        http_requests_total{method="post",code="200"} 1027 1395066363000
        http_requests_total{method="post",code="400"}    3 1395066363000

        # Escaping in label values:
        msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9
        # HELP rpc_duration_seconds A histogram.
        # TYPE rpc_duration_seconds histogram
        rpc_duration_seconds_bucket{le="0.05"} 24054
        rpc_duration_seconds_bucket{le="0.1"} 33444
        rpc_duration_seconds_bucket{le="+Inf"} 144320
        rpc_duration_seconds_sum 53423
        rpc_duration_seconds_count 144320
        metric_without_timestamp_and_labels 12.47
        something_weird{problem="division by zero"} +Inf -3982045
        """;

    [Fact]
    public void The_format_pages_example_parses_with_its_values_and_escapes()
    {
        var families = PrometheusText.Parse(Example);

        Assert.Equal("counter", families["http_requests_total"].Type);
        Assert.Equal(1027, families.Value("http_requests_total", ("method", "post"), ("code", "200")));
        Assert.Equal(1.458255915e9, families.Value("msdos_file_access_time_seconds", ("path", @"C:\DIR\FILE.TXT"), ("error", "Cannot find file:\n\"FILE.TXT\"")));
        Assert.Equal(144320, families.Value("rpc_duration_seconds_count"));
        Assert.Equal(double.PositiveInfinity, families.Value("something_weird", ("problem", "division by zero")));
    }

    public static TheoryData<string, string> Malformed => new()
    {
        { "a label value without its closing quote", "m{a=\"b} 1" },
        { "an unknown escape in a label value", "m{a=\"\\t\"} 1" },
        { "a value that is not a float", "m 1x" },
        { "a metric name starting with a digit", "1m 1" },
        { "a TYPE after the family's samples", "m 1\n# TYPE m gauge" },
        { "a family's lines split by another's", "a 1\nb 1\na 2" },
        { "histogram buckets that decrease", "# TYPE h histogram\nh_bucket{le=\"1\"} 5\nh_bucket{le=\"+Inf\"} 4\nh_sum 1\nh_count 4" },
        { "a histogram whose +Inf bucket is not its count", "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 4\nh_sum 1\nh_count 5" },
        { "a negative counter", "# TYPE c counter\nc -1" },
        { "an unknown type", "# TYPE m meter\nm 1" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void What_a_scraper_refuses_is_refused(string because, string text) =>
        Assert.True(Throws(text), because);

    private static bool Throws(string text)
    {
        try
        {
            PrometheusText.Parse(text);
            return false;
        }
        catch (FormatException)
        {
            return true;
        }
    }
}

using System.Reflection;

namespace EngineSkeleton.Server.Observability;

/// <summary>
/// The status page at <c>/</c> on the public port (docs/operations.md, Status page): a static page, its script and
/// its style, shipped as embedded resources and served from memory. The script polls <c>/status</c> and
/// <c>/health/ready</c>; the Content-Security-Policy lets the page load nothing but this node's own paths.
/// </summary>
internal static class StatusPage
{
    /// <summary>'self' only: a page that tried to load a font, script or image from elsewhere would be refused by the browser.</summary>
    private const string ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly Dictionary<string, (string Resource, string ContentType)> Files = new(StringComparer.Ordinal)
    {
        ["/"] = ("index.html", "text/html; charset=utf-8"),
        ["/ui/status.js"] = ("status.js", "text/javascript; charset=utf-8"),
        ["/ui/status.css"] = ("status.css", "text/css; charset=utf-8"),
    };

    private static readonly Lazy<Dictionary<string, byte[]>> Contents = new(Load);

    /// <summary>
    /// Serves GET and HEAD of the page's paths on <paramref name="httpPort"/>; a WebSocket upgrade to <c>/</c> and every
    /// POST go on to the JSON-RPC endpoint. Call before the endpoint is mounted.
    /// </summary>
    public static void UseStatusPage(this WebApplication app, int httpPort)
    {
        app.Use(async (context, next) =>
        {
            var request = context.Request;
            if (context.Connection.LocalPort == httpPort
                && (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
                && !request.Headers.Upgrade.Any(u => string.Equals(u, "websocket", StringComparison.OrdinalIgnoreCase))
                && Files.TryGetValue(request.Path.HasValue ? request.Path.Value! : "/", out var file))
            {
                var body = Contents.Value[file.Resource];
                context.Response.StatusCode = StatusCodes.Status200OK;
                context.Response.ContentType = file.ContentType;
                context.Response.ContentLength = body.Length;
                context.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
                context.Response.Headers.CacheControl = "no-cache";
                context.Response.Headers.XContentTypeOptions = "nosniff";
                if (HttpMethods.IsGet(request.Method))
                {
                    await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
                }
                return;
            }
            await next(context).ConfigureAwait(false);
        });
    }

    private static Dictionary<string, byte[]> Load()
    {
        var assembly = Assembly.GetExecutingAssembly();
        var contents = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (resource, _) in Files.Values)
        {
            var name = $"EngineSkeleton.Server.Observability.Page.{resource}";
            using var stream = assembly.GetManifestResourceStream(name) ?? throw new InvalidOperationException($"status page resource {name} is not embedded");
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            contents[resource] = copy.ToArray();
        }
        return contents;
    }
}

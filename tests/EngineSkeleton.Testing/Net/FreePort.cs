using System.Net;
using System.Net.Sockets;

namespace EngineSkeleton.Testing.Net;

/// <summary>
/// TCP ports that were free on 127.0.0.1 when asked for. The OS picks them (bind to port 0), so parallel test
/// processes rarely collide; within this process a port is never handed out twice. The gap between closing the
/// probe and the child binding the port is the usual accepted race of such fixtures.
/// </summary>
public static class FreePort
{
    private static readonly HashSet<int> HandedOut = [];
    private static readonly Lock Gate = new();

    /// <summary>A loopback TCP port nobody listened on a moment ago and this process has not handed out before.</summary>
    public static int Next()
    {
        // The kernel does not hand out the same ephemeral port twice in a row; a few tries are plenty.
        for (var attempt = 0; attempt < 64; attempt++)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            lock (Gate)
            {
                if (HandedOut.Add(port))
                {
                    return port;
                }
            }
        }

        throw new InvalidOperationException("No free loopback TCP port found in 64 attempts.");
    }
}

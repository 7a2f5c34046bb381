using System.Security.Cryptography;
using System.Text;
using EngineSkeleton.Network.DevP2p.Rlpx;

namespace EngineSkeleton.Network.Tests.DevP2p.Rlpx;

internal static class Sessions
{
    /// <summary>
    /// Secrets for both ends of a session, as a handshake would leave them: the same aes- and mac-secret, each side's
    /// egress state equal to the other's ingress state.
    /// </summary>
    public static (HandshakeSecrets A, HandshakeSecrets B) Mirrored(NodeId idA, NodeId idB)
    {
        var aes = RandomNumberGenerator.GetBytes(32);
        var mac = RandomNumberGenerator.GetBytes(32);
        return (
            new HandshakeSecrets(aes, mac, EgressMac: Seeded("a to b"), IngressMac: Seeded("b to a"), RemoteId: idB),
            new HandshakeSecrets(aes, mac, EgressMac: Seeded("b to a"), IngressMac: Seeded("a to b"), RemoteId: idA));
    }

    /// <summary>The bytes a connection with <paramref name="secrets"/> writes for the given messages.</summary>
    public static byte[] Frames(HandshakeSecrets secrets, bool compressed, params (ulong Code, byte[] Payload)[] messages)
    {
        var output = new ScriptedStream([]);
        using var key = NodeKey.Generate();
        var connection = new RlpxConnection(output, key, secrets);
        if (compressed)
        {
            connection.EnableCompression();
        }
        foreach (var (code, payload) in messages)
        {
            connection.WriteMessageAsync(code, payload, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        }
        return output.Written.ToArray();
    }

    private static KeccakMacState Seeded(string seed)
    {
        var state = new KeccakMacState();
        state.Update(Encoding.UTF8.GetBytes(seed));
        return state;
    }
}

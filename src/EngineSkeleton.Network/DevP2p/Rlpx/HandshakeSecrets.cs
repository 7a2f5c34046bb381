namespace EngineSkeleton.Network.DevP2p.Rlpx;

/// <summary>
/// What the encryption handshake agrees (rlpx.md, Initial Handshake): aes-secret and mac-secret, the two MAC states
/// already fed with their nonce and packet, and the remote node's proven identity.
/// </summary>
internal sealed record HandshakeSecrets(byte[] AesSecret, byte[] MacSecret, IMacState EgressMac, IMacState IngressMac, NodeId RemoteId);

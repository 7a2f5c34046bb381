namespace EngineSkeleton.Network.DevP2p.Rlpx;

/// <summary>The reasons a Disconnect message may give, with the values of rlpx.md (Disconnect (0x01)).</summary>
public enum DisconnectReason : byte
{
    /// <summary>Disconnect requested.</summary>
    Requested = 0x00,

    /// <summary>TCP sub-system error.</summary>
    TcpSubsystemError = 0x01,

    /// <summary>Breach of protocol, e.g. a malformed message, bad RLP.</summary>
    BreachOfProtocol = 0x02,

    /// <summary>Useless peer.</summary>
    UselessPeer = 0x03,

    /// <summary>Too many peers.</summary>
    TooManyPeers = 0x04,

    /// <summary>Already connected.</summary>
    AlreadyConnected = 0x05,

    /// <summary>Incompatible P2P protocol version.</summary>
    IncompatibleP2pVersion = 0x06,

    /// <summary>Null node identity received: this is automatically invalid.</summary>
    NullNodeIdentity = 0x07,

    /// <summary>Client quitting.</summary>
    ClientQuitting = 0x08,

    /// <summary>Unexpected identity in handshake.</summary>
    UnexpectedIdentity = 0x09,

    /// <summary>Identity is the same as this node (connected to itself).</summary>
    ConnectedToSelf = 0x0a,

    /// <summary>Ping timeout.</summary>
    PingTimeout = 0x0b,

    /// <summary>Some other reason specific to a subprotocol.</summary>
    SubprotocolReason = 0x10,
}

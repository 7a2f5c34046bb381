using System.Net;
using System.Net.Sockets;
using System.Text;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Core.Rlp;
using EngineSkeleton.Network.DevP2p.Rlpx;

namespace EngineSkeleton.Network.Discovery.Enr;

/// <summary>
/// Our own node record: entries set here, signed with the node key under the "v4" scheme when <see cref="Record"/>
/// is read. The sequence number starts at the one given (a restarted node passes the last one it published, so that
/// peers take the new record) and goes up by one at the first signing after any change (EIP-778: "the sequence number
/// must be increased when the record changes"); reading <see cref="Record"/> without a change returns the same record.
/// Not thread-safe: one owner (the discovery loop) updates and reads it.
/// </summary>
internal sealed class LocalEnr
{
    private readonly NodeKey _key;
    private readonly SortedDictionary<string, byte[]> _entries = new(StringComparer.Ordinal);
    private ulong _seq;
    private EnrRecord? _record;
    private bool _changed;

    public LocalEnr(NodeKey key, ulong seq)
    {
        ArgumentNullException.ThrowIfNull(key);
        _key = key;
        _seq = seq;
        Span<byte> compressed = stackalloc byte[33];
        key.PrivateKey.CreatePubKey().WriteToSpan(compressed: true, compressed, out _);
        _entries[EnrKeys.Id] = RlpWriter.EncodeBytes("v4"u8);
        _entries[EnrKeys.Secp256k1] = RlpWriter.EncodeBytes(compressed);
    }

    public ulong Seq => _record?.Seq ?? _seq;

    /// <summary>The signed record of the current entries; signing bumps the sequence number if anything changed.</summary>
    public EnrRecord Record
    {
        get
        {
            if (_record is null || _changed)
            {
                if (_record is not null)
                {
                    _seq = checked(_seq + 1);
                }
                _record = Sign();
                _changed = false;
            }
            return _record;
        }
    }

    /// <summary>Sets <c>ip</c> or <c>ip6</c> by the address family.</summary>
    public void SetIp(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        var key = address.AddressFamily == AddressFamily.InterNetwork ? EnrKeys.Ip : EnrKeys.Ip6;
        Set(key, RlpWriter.EncodeBytes(address.GetAddressBytes()));
    }

    public void SetTcp(int port) => Set(EnrKeys.Tcp, EncodePort(port));

    public void SetUdp(int port) => Set(EnrKeys.Udp, EncodePort(port));

    public void SetTcp6(int port) => Set(EnrKeys.Tcp6, EncodePort(port));

    public void SetUdp6(int port) => Set(EnrKeys.Udp6, EncodePort(port));

    /// <summary>The <c>eth</c> entry, <c>[[forkHash, forkNext]]</c>, as geth writes it.</summary>
    public void SetEth(ForkId forkId)
    {
        var inner = forkId.EncodedLength;
        var value = new byte[RlpWriter.LengthOfList(inner)];
        var writer = new RlpWriter(value);
        writer.WriteListHeader(inner);
        forkId.Write(ref writer);
        Set(EnrKeys.Eth, value);
    }

    /// <summary>Any other entry, its value one RLP item; the identity keys cannot be replaced.</summary>
    public void Set(string key, byte[] rlpValue)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(rlpValue);
        if (key is EnrKeys.Id or EnrKeys.Secp256k1)
        {
            throw new ArgumentException($"'{key}' belongs to the identity scheme", nameof(key));
        }
        if (_entries.TryGetValue(key, out var current) && current.AsSpan().SequenceEqual(rlpValue))
        {
            return;
        }
        _entries[key] = rlpValue.ToArray();
        _changed = true;
    }

    public void Remove(string key)
    {
        if (key is EnrKeys.Id or EnrKeys.Secp256k1)
        {
            throw new ArgumentException($"'{key}' belongs to the identity scheme", nameof(key));
        }
        _changed |= _entries.Remove(key);
    }

    private EnrRecord Sign()
    {
        var itemsLength = RlpWriter.LengthOfUInt64(_seq);
        foreach (var (key, value) in _entries)
        {
            itemsLength += RlpWriter.LengthOfBytes(Encoding.Latin1.GetBytes(key)) + value.Length;
        }
        var items = new byte[itemsLength];
        var writer = new RlpWriter(items);
        writer.WriteUInt64(_seq);
        foreach (var (key, value) in _entries)
        {
            writer.WriteBytes(Encoding.Latin1.GetBytes(key));
            writer.WriteRaw(value);
        }

        Span<byte> digest = stackalloc byte[32];
        Keccak256.Hash(EnrRecord.Content(items), digest);
        Span<byte> signature = stackalloc byte[Secp256k1Keys.SignatureSize];
        Secp256k1Keys.SignRecoverable(_key.PrivateKey, digest, signature);

        var payload = RlpWriter.LengthOfBytes(signature[..EnrRecord.SignatureSize]) + items.Length;
        var encoded = new byte[RlpWriter.LengthOfList(payload)];
        if (encoded.Length > EnrRecord.MaxSize)
        {
            throw new InvalidOperationException($"our node record would be {encoded.Length} bytes, over the {EnrRecord.MaxSize}-byte limit");
        }
        writer = new RlpWriter(encoded);
        writer.WriteListHeader(payload);
        writer.WriteBytes(signature[..EnrRecord.SignatureSize]);
        writer.WriteRaw(items);
        // Decoding our own bytes checks them as a peer would, and gives the record its accessors.
        return EnrRecord.Decode(encoded);
    }

    private static byte[] EncodePort(int port)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        return RlpWriter.EncodeUInt64((ulong)port);
    }
}

using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Rlp;

namespace EngineSkeleton.Core.Trie;

/// <summary>
/// An in-memory Merkle-Patricia trie (Yellow Paper appendix D), built only to compute a root: transactions,
/// withdrawals and genesis state. Nodes are kept unhashed while keys go in; <see cref="RootHash"/> encodes them
/// bottom-up, embedding a child whose encoding is under 32 bytes and referring to larger ones by keccak256.
/// Keys may be of any length and may prefix one another. There is no delete: the roots computed here are of
/// sets given whole, and an empty value (which a trie reads as "absent") is refused.
/// </summary>
internal sealed class PatriciaTrie
{
    private Node? _root;

    /// <summary>Sets <paramref name="key"/> to a copy of <paramref name="value"/>, replacing any value it had.</summary>
    public void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value) => Put(key, value.ToArray());

    /// <summary>
    /// Sets <paramref name="key"/> to <paramref name="value"/> itself, not a copy: the caller does not change it while
    /// the trie lives. A block's transactions go in this way (a mainnet block's are ~100 KB, copied for nothing).
    /// </summary>
    public void Put(ReadOnlySpan<byte> key, byte[] value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length == 0)
        {
            throw new ArgumentException("a trie holds no empty values (empty means absent)", nameof(value));
        }
        var nibbles = new byte[key.Length * 2];
        for (var i = 0; i < key.Length; i++)
        {
            nibbles[2 * i] = (byte)(key[i] >> 4);
            nibbles[(2 * i) + 1] = (byte)(key[i] & 0x0f);
        }
        _root = Insert(_root, nibbles, value);
    }

    /// <summary>keccak256 of the root node's encoding; <see cref="Keccak256.EmptyTrieRoot"/> when empty.</summary>
    public Hash256 RootHash() => _root is null ? Keccak256.EmptyTrieRoot : Keccak256.Hash(Encode(_root, LeafReferences(_root)));

    /// <summary>
    /// How the parents of the trie's leaves hold them, all hashed in one go (<see cref="Keccak256.HashAll(IReadOnlyList{byte[]}, Span{Hash256})"/>, four at
    /// a time): a block's transactions or receipts trie is mostly its leaves, so most of its hashing is theirs. The
    /// root is not among them (it is hashed, not referenced).
    /// </summary>
    private static Dictionary<Node, byte[]> LeafReferences(Node root)
    {
        var leaves = new List<Leaf>();
        CollectLeaves(root, leaves, isRoot: true);
        var references = new Dictionary<Node, byte[]>(leaves.Count, ReferenceEqualityComparer.Instance);
        // The encodings to hash go one after another into one rented buffer (a block's transactions: ~100 KB that
        // were an array a leaf); the few under 32 bytes, held inline by their parents, get arrays of their own.
        var hashed = new List<Leaf>(leaves.Count);
        var total = 0;
        foreach (var leaf in leaves)
        {
            var length = LeafLength(leaf, out _);
            if (length < Hash256.Size)
            {
                references[leaf] = EncodeLeaf(leaf);
            }
            else
            {
                hashed.Add(leaf);
                total += length;
            }
        }
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(total);
        try
        {
            var ends = new int[hashed.Count];
            var written = 0;
            for (var i = 0; i < hashed.Count; i++)
            {
                written += EncodeLeaf(hashed[i], buffer.AsSpan(written));
                ends[i] = written;
            }
            var hashes = new Hash256[hashed.Count];
            Keccak256.HashAll(buffer.AsSpan(0, written), ends, hashes);
            for (var i = 0; i < hashed.Count; i++)
            {
                references[hashed[i]] = HashReference(hashes[i]);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
        return references;
    }

    private static void CollectLeaves(Node node, List<Leaf> leaves, bool isRoot)
    {
        switch (node)
        {
            case Leaf leaf when !isRoot:
                leaves.Add(leaf);
                break;
            case Extension extension:
                CollectLeaves(extension.Child, leaves, isRoot: false);
                break;
            case Branch branch:
                foreach (var child in branch.Children)
                {
                    if (child is not null)
                    {
                        CollectLeaves(child, leaves, isRoot: false);
                    }
                }
                break;
            default:
                break;
        }
    }

    private static Node Insert(Node? node, ReadOnlySpan<byte> path, byte[] value) => node switch
    {
        null => new Leaf(path.ToArray(), value),
        Branch branch => InsertIntoBranch(branch, path, value),
        Leaf leaf => InsertIntoLeaf(leaf, path, value),
        Extension extension => InsertIntoExtension(extension, path, value),
        _ => throw new InvalidOperationException($"unknown node type {node.GetType().Name}"),
    };

    private static Branch InsertIntoBranch(Branch branch, ReadOnlySpan<byte> path, byte[] value)
    {
        if (path.IsEmpty)
        {
            branch.Value = value;
        }
        else
        {
            branch.Children[path[0]] = Insert(branch.Children[path[0]], path[1..], value);
        }
        return branch;
    }

    /// <summary>Same key: new value. Else the paths part where they differ, under a new branch.</summary>
    private static Node InsertIntoLeaf(Leaf leaf, ReadOnlySpan<byte> path, byte[] value)
    {
        var common = path.CommonPrefixLength(leaf.Path);
        if (common == path.Length && common == leaf.Path.Length)
        {
            leaf.Value = value;
            return leaf;
        }
        var split = new Branch();
        Attach(split, leaf.Path.AsSpan(common), leaf.Value);
        Attach(split, path[common..], value);
        return common == 0 ? split : new Extension(path[..common].ToArray(), split);
    }

    /// <summary>Down the extension if the path follows all of it; else split it where the path leaves it.</summary>
    private static Node InsertIntoExtension(Extension extension, ReadOnlySpan<byte> path, byte[] value)
    {
        var common = path.CommonPrefixLength(extension.Path);
        if (common == extension.Path.Length)
        {
            extension.Child = Insert(extension.Child, path[common..], value);
            return extension;
        }
        var split = new Branch();
        var rest = extension.Path.AsSpan(common + 1);
        split.Children[extension.Path[common]] =
            rest.IsEmpty ? extension.Child : new Extension(rest.ToArray(), extension.Child);
        Attach(split, path[common..], value);
        return common == 0 ? split : new Extension(path[..common].ToArray(), split);
    }

    /// <summary>Hangs a value under a fresh branch: in the branch itself if no path is left, else in a leaf.</summary>
    private static void Attach(Branch branch, ReadOnlySpan<byte> path, byte[] value)
    {
        if (path.IsEmpty)
        {
            branch.Value = value;
        }
        else
        {
            branch.Children[path[0]] = new Leaf(path[1..].ToArray(), value);
        }
    }

    private static byte[] Encode(Node node, Dictionary<Node, byte[]> known) => node switch
    {
        Leaf leaf => EncodeLeaf(leaf),
        Extension extension => EncodePair(CompactPath(extension.Path, isLeaf: false), Reference(extension.Child, known)),
        Branch branch => EncodeBranch(branch, known),
        _ => throw new InvalidOperationException($"unknown node type {node.GetType().Name}"),
    };

    /// <summary>A branch is the list of its 16 child references (0x80 where none) and its value (0x80 if none).</summary>
    private static byte[] EncodeBranch(Branch branch, Dictionary<Node, byte[]> known)
    {
        var items = new byte[17][];
        var payload = 0;
        for (var i = 0; i < 16; i++)
        {
            items[i] = branch.Children[i] is { } child ? Reference(child, known) : EmptyString;
            payload += items[i].Length;
        }
        items[16] = branch.Value is { } value ? RlpWriter.EncodeBytes(value) : EmptyString;
        payload += items[16].Length;
        var output = new byte[RlpWriter.LengthOfList(payload)];
        var writer = new RlpWriter(output);
        writer.WriteListHeader(payload);
        foreach (var item in items)
        {
            writer.WriteRaw(item);
        }
        return output;
    }

    private static readonly byte[] EmptyString = [0x80];

    /// <summary>
    /// How a parent holds a child: inline if its encoding is under 32 bytes, else its hash; a leaf's from
    /// <paramref name="known"/>.
    /// </summary>
    private static byte[] Reference(Node child, Dictionary<Node, byte[]> known)
    {
        if (known.TryGetValue(child, out var reference))
        {
            return reference;
        }
        var encoded = Encode(child, known);
        return encoded.Length < Hash256.Size ? encoded : HashReference(Keccak256.Hash(encoded));
    }

    private static byte[] HashReference(Hash256 hash)
    {
        var reference = new byte[RlpWriter.LengthOfHash256];
        var writer = new RlpWriter(reference);
        writer.WriteHash256(hash);
        return reference;
    }

    /// <summary>A leaf is the pair of its compact path and its value as an RLP string, written in one array.</summary>
    private static byte[] EncodeLeaf(Leaf leaf)
    {
        var output = new byte[LeafLength(leaf, out _)];
        EncodeLeaf(leaf, output);
        return output;
    }

    /// <summary>Writes the leaf's encoding at the start of <paramref name="output"/>; returns its length.</summary>
    private static int EncodeLeaf(Leaf leaf, Span<byte> output)
    {
        var length = LeafLength(leaf, out var payload);
        var size = (leaf.Path.Length / 2) + 1;
        Span<byte> path = size <= 128 ? stackalloc byte[size] : new byte[size];
        CompactPath(leaf.Path, isLeaf: true, path);
        var writer = new RlpWriter(output[..length]);
        writer.WriteListHeader(payload);
        writer.WriteBytes(path);
        writer.WriteBytes(leaf.Value);
        return length;
    }

    /// <summary>Bytes of a leaf's encoding, and of its list's payload.</summary>
    private static int LeafLength(Leaf leaf, out int payload)
    {
        var size = (leaf.Path.Length / 2) + 1;
        Span<byte> path = size <= 128 ? stackalloc byte[size] : new byte[size];
        CompactPath(leaf.Path, isLeaf: true, path);
        payload = RlpWriter.LengthOfBytes(path) + RlpWriter.LengthOfBytes(leaf.Value);
        return RlpWriter.LengthOfList(payload);
    }

    private static byte[] EncodePair(byte[] path, byte[] encodedSecond)
    {
        var payload = RlpWriter.LengthOfBytes(path) + encodedSecond.Length;
        var output = new byte[RlpWriter.LengthOfList(payload)];
        var writer = new RlpWriter(output);
        writer.WriteListHeader(payload);
        writer.WriteBytes(path);
        writer.WriteRaw(encodedSecond);
        return output;
    }

    /// <summary>
    /// Hex-prefix encoding (Yellow Paper appendix C): the first nibble flags leaf (2) and odd length (1); an odd
    /// path's first nibble shares the flag byte, an even path is preceded by a zero nibble.
    /// </summary>
    private static byte[] CompactPath(byte[] nibbles, bool isLeaf)
    {
        var output = new byte[(nibbles.Length / 2) + 1];
        CompactPath(nibbles, isLeaf, output);
        return output;
    }

    private static void CompactPath(ReadOnlySpan<byte> nibbles, bool isLeaf, Span<byte> output)
    {
        var odd = nibbles.Length % 2;
        var flag = (isLeaf ? 2 : 0) + odd;
        output[0] = (byte)(flag << 4);
        var n = 0;
        if (odd == 1)
        {
            output[0] |= nibbles[0];
            n = 1;
        }
        for (var i = 1; i < output.Length; i++, n += 2)
        {
            output[i] = (byte)((nibbles[n] << 4) | nibbles[n + 1]);
        }
    }

    private abstract class Node;

    private sealed class Leaf(byte[] path, byte[] value) : Node
    {
        public byte[] Path { get; } = path;

        public byte[] Value { get; set; } = value;
    }

    private sealed class Extension(byte[] path, Node child) : Node
    {
        public byte[] Path { get; } = path;

        public Node Child { get; set; } = child;
    }

    private sealed class Branch : Node
    {
        public Node?[] Children { get; } = new Node?[16];

        public byte[]? Value { get; set; }
    }
}

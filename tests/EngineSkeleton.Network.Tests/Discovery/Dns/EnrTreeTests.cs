using System.Buffers.Text;
using System.Text;
using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Network.DevP2p.Rlpx;
using EngineSkeleton.Network.Discovery;
using EngineSkeleton.Network.Discovery.Dns;

namespace EngineSkeleton.Network.Tests.Discovery.Dns;

/// <summary>EIP-1459's example tree walked from its zone, and trees and entries built to break each rule.</summary>
public sealed class EnrTreeTests
{
    private const string Domain = "nodes.example.org";

    // EIP-1459, Specification, "Example in zone file format". The root is signed by the key geth's dnsdisc tests call
    // signingKeyForTesting; its URL (geth client_test.go, TestClientSyncTree) gives the public key below.
    private const string Url = "enrtree://AKPYQIUQIL7PSIACI32J7FGZW56E5FKHEFCCOFHILBIMW3M6LWXS2@" + Domain;
    private const string SigningKey = "dc599867fc513f8f5e2c2c9c489cde5e71362d1d9ec6e693e0de063236ed1240";
    private const string Root = "enrtree-root:v1 e=JWXYDBPXYWG6FX3GMDIBFA6CJ4 l=C7HRFPF3BLGF3YR4DY5KX3SMBE seq=1 sig=o908WmNp7LibOfPsr4btQwatZJ5URBr2ZAuxvK4UWHlsB9sUOTJQaGAlLPVAhM__XJesCHxLISo94z5Z2a463gA";
    private const string Link = "enrtree://AM5FCQLWIZX2QFPNJAP7VUERCCRNGRHWZG3YYHIUV7BVDQ5FDPRT2@morenodes.example.org";
    private const string Branch = "enrtree-branch:2XS2367YHAXJFGLZHVAWLQD4ZY,H4FHT4B454P6UXFD7JCYQ5PWDY,MHTDO6TMUBRIA2XWG5LUDACK24";
    private static readonly string[] Leaves =
    [
        "enr:-HW4QOFzoVLaFJnNhbgMoDXPnOvcdVuj7pDpqRvh6BRDO68aVi5ZcjB3vzQRZH2IcLBGHzo8uUN3snqmgTiE56CH3AMBgmlkgnY0iXNlY3AyNTZrMaECC2_24YYkYHEgdzxlSNKQEnHhuNAbNlMlWJxrJxbAFvA",
        "enr:-HW4QAggRauloj2SDLtIHN1XBkvhFZ1vtf1raYQp9TBW2RD5EEawDzbtSmlXUfnaHcvwOizhVYLtr7e6vw7NAf6mTuoCgmlkgnY0iXNlY3AyNTZrMaECjrXI8TLNXU0f8cthpAMxEshUyQlK-AM0PW2wfrnacNI",
        "enr:-HW4QLAYqmrwllBEnzWWs7I5Ev2IAs7x_dZlbYdRdMUx5EyKHDXp7AV5CkuPGUPdvbv1_Ms1CPfhcGCvSElSosZmyoqAgmlkgnY0iXNlY3AyNTZrMaECriawHKWdDRk2xeZkrOXBQ0dfMFLHY4eENZwdufn1S1o",
    ];

    private static Dictionary<string, string[]> ExampleZone() => new(StringComparer.Ordinal)
    {
        [Domain] = [Root],
        ["C7HRFPF3BLGF3YR4DY5KX3SMBE." + Domain] = [Link],
        ["JWXYDBPXYWG6FX3GMDIBFA6CJ4." + Domain] = [Branch],
        ["2XS2367YHAXJFGLZHVAWLQD4ZY." + Domain] = [Leaves[0]],
        ["H4FHT4B454P6UXFD7JCYQ5PWDY." + Domain] = [Leaves[1]],
        ["MHTDO6TMUBRIA2XWG5LUDACK24." + Domain] = [Leaves[2]],
    };

    [Fact]
    public async Task The_EIP_1459_example_tree_walks_to_its_three_records_and_one_link()
    {
        var resolver = new ZoneResolver(ExampleZone());

        var tree = await new EnrTreeWalker(resolver).WalkAsync(EnrTreeUrl.Parse(Url), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(1UL, tree.Root.Seq);
        Assert.Equal(Leaves, tree.Records.Select(record => record.ToString()));
        Assert.Equal([Link], tree.Links.Select(link => link.ToString()));
        Assert.Equal(6, resolver.Queries.Count);
    }

    [Fact]
    public async Task The_example_walks_within_limits_it_exactly_meets()
    {
        var walker = new EnrTreeWalker(new ZoneResolver(ExampleZone()), new EnrTreeLimits(MaxEntries: 5, MaxDepth: 1));

        var tree = await walker.WalkAsync(EnrTreeUrl.Parse(Url), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(3, tree.Records.Count);
    }

    [Fact]
    public void Every_example_entry_is_named_by_its_hash_and_prints_as_it_was_read()
    {
        foreach (var (name, texts) in ExampleZone())
        {
            var text = texts[0];
            Assert.Equal(text, EnrTreeEntry.Parse(text).ToString());
            if (name != Domain)
            {
                Assert.Equal(name[..name.IndexOf('.', StringComparison.Ordinal)], EnrTreeEntry.HashName(text));
            }
        }
    }

    [Fact]
    public void The_example_root_is_signed_by_the_URL_key_and_not_by_another()
    {
        var root = Assert.IsType<EnrTreeRoot>(EnrTreeEntry.Parse(Root));
        using var key = NodeKey.FromHex(SigningKey);

        Assert.True(root.IsSignedBy(EnrTreeUrl.Parse(Url)));
        Assert.Equal(Url, UrlOf(key, Domain));
        Assert.False(root.IsSignedBy(EnrTreeUrl.Parse(Link)));
        Assert.False((root with { Seq = 2 }).IsSignedBy(EnrTreeUrl.Parse(Url)));
    }

    [Fact]
    public void The_built_in_trees_and_bootnodes_parse()
    {
        foreach (var url in new[] { KnownNodes.MainnetDnsTree, KnownNodes.SepoliaDnsTree, KnownNodes.HoodiDnsTree })
        {
            Assert.EndsWith(".ethdisco.net", EnrTreeUrl.Parse(url).Domain, StringComparison.Ordinal);
        }
        var bootnodes = KnownNodes.MainnetBootnodes.Concat(KnownNodes.SepoliaBootnodes).Concat(KnownNodes.HoodiBootnodes).ToArray();
        Assert.Equal(12, bootnodes.Length);
        Assert.All(bootnodes, url => Assert.Equal(30303, Enode.Parse(url).TcpPort));
    }

    public static TheoryData<string> BrokenTreeNames() => [.. BrokenTrees().Keys];

    /// <summary>Each case: a zone (and limits) that breaks one rule, and the kind of refusal it must get.</summary>
    private static Dictionary<string, (Dictionary<string, string[]> Zone, EnrTreeLimits Limits, DiscoveryError Kind)> BrokenTrees()
    {
        var limits = EnrTreeLimits.Default;
        var cases = new Dictionary<string, (Dictionary<string, string[]>, EnrTreeLimits, DiscoveryError)>();

        var zone = ExampleZone();
        zone[Domain] = [Root.Replace("seq=1", "seq=2", StringComparison.Ordinal)];
        cases["a root whose seq was changed after signing"] = (zone, limits, DiscoveryError.BadSignature);

        zone = ExampleZone();
        zone[Domain] = [Root[..^4]];
        cases["a root signature cut to 62 bytes"] = (zone, limits, DiscoveryError.BadSignature);

        zone = ExampleZone();
        zone["H4FHT4B454P6UXFD7JCYQ5PWDY." + Domain] = [Leaves[2]];
        cases["a leaf whose record is another entry's"] = (zone, limits, DiscoveryError.BadHash);

        zone = ExampleZone();
        zone["C7HRFPF3BLGF3YR4DY5KX3SMBE." + Domain] = [Link.Replace("morenodes", "othernodes", StringComparison.Ordinal)];
        cases["a link changed under its name"] = (zone, limits, DiscoveryError.BadHash);

        zone = ExampleZone();
        zone.Remove("MHTDO6TMUBRIA2XWG5LUDACK24." + Domain);
        cases["a leaf that is not there"] = (zone, limits, DiscoveryError.Missing);

        zone = ExampleZone();
        zone[Domain] = ["v=spf1 -all"];
        cases["no root at the domain"] = (zone, limits, DiscoveryError.Missing);

        cases["the example's five entries with room for four"] = (ExampleZone(), limits with { MaxEntries = 4 }, DiscoveryError.TooLarge);

        cases["a branch that names one child twice"] = (Signed(e => e.Branch(e.Leaf(0), e.Leaf(0)), e => e.Branch()), limits, DiscoveryError.BadTree);
        cases["e= and l= naming the same branch"] = (SignedSame(), limits, DiscoveryError.BadTree);
        cases["branches four deep where three are allowed"] = (Signed(e => e.Branch(e.Branch(e.Branch(e.Branch(e.Leaf(0))))), e => e.Branch()), limits with { MaxDepth = 3 }, DiscoveryError.BadTree);
        cases["a link in the record subtree"] = (Signed(e => e.Branch(e.Add(Link)), e => e.Branch()), limits, DiscoveryError.BadTree);
        cases["a record in the link subtree"] = (Signed(e => e.Branch(), e => e.Add(Leaves[1])), limits, DiscoveryError.BadTree);
        cases["a second root inside the tree"] = (Signed(e => e.Add(Root), e => e.Branch()), limits, DiscoveryError.BadTree);
        cases["a branch child that is not base32"] = (Signed(e => e.Add("enrtree-branch:not-base32"), e => e.Branch()), limits, DiscoveryError.Malformed);
        cases["a record whose signature is broken"] = (Signed(e => e.Add(Leaves[0][..^2] + "AA"), e => e.Branch()), limits, DiscoveryError.BadSignature);
        return cases;
    }

    [Theory]
    [MemberData(nameof(BrokenTreeNames))]
    public async Task Broken_trees_are_refused_with_the_reason(string what)
    {
        var (zone, limits, kind) = BrokenTrees()[what];

        var walk = new EnrTreeWalker(new ZoneResolver(zone), limits).WalkAsync(EnrTreeUrl.Parse(Url), CancellationToken.None);
        var error = await Assert.ThrowsAsync<DiscoveryException>(() => walk.WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.True(kind == error.Kind, $"{what}: {error.Kind}: {error.Message}");
    }

    public static TheoryData<string, string> BadUrls() => new()
    {
        { "no scheme", Url["enrtree://".Length..] },
        { "no domain", Url[..Url.IndexOf('@', StringComparison.Ordinal)] },
        { "an empty domain", Url[..(Url.IndexOf('@', StringComparison.Ordinal) + 1)] },
        { "lower-case base32", Url.ToLowerInvariant() },
        { "a key one character short", Url.Remove(10, 1) },
        { "a key that is not on the curve", "enrtree://" + Base32.Encode([0x02, .. new byte[32]]) + "@" + Domain },
    };

    [Theory]
    [MemberData(nameof(BadUrls))]
    public void Bad_urls_are_refused(string what, string url)
    {
        Assert.False(EnrTreeUrl.TryParse(url, out _, out var error), what);
        Assert.NotNull(error);
        Assert.Throws<DiscoveryException>(() => EnrTreeUrl.Parse(url));
    }

    public static TheoryData<string, string, DiscoveryError> BadEntries() => new()
    {
        { "a root without sig", Root[..Root.IndexOf(" sig=", StringComparison.Ordinal)], DiscoveryError.Malformed },
        { "a root with a negative seq", Root.Replace("seq=1", "seq=-1", StringComparison.Ordinal), DiscoveryError.Malformed },
        { "a root with a short e=", Root.Replace("e=JWXYDBPXYWG6FX3GMDIBFA6CJ4", "e=JWXY", StringComparison.Ordinal), DiscoveryError.Malformed },
        { "a root with an extra field", Root + " x=1", DiscoveryError.Malformed },
        { "a branch with an empty child", Branch + ",", DiscoveryError.Malformed },
        { "unknown text", "v=spf1 -all", DiscoveryError.Malformed },
        { "an ENR over 300 bytes", "enr:" + new string('A', 404), DiscoveryError.TooLarge },
    };

    [Theory]
    [MemberData(nameof(BadEntries))]
    public void Bad_entries_are_refused_with_the_reason(string what, string text, DiscoveryError kind)
    {
        var error = Assert.Throws<DiscoveryException>(() => EnrTreeEntry.Parse(text));
        Assert.True(kind == error.Kind, $"{what}: {error.Kind}: {error.Message}");
    }

    [Fact]
    public void An_empty_branch_is_allowed()
    {
        Assert.Empty(Assert.IsType<EnrTreeBranch>(EnrTreeEntry.Parse(EnrTreeEntry.BranchPrefix)).Children);
    }

    [Fact]
    public void Base32_round_trips_and_refuses_padding_and_stray_bits()
    {
        var bytes = Enumerable.Range(0, 33).Select(i => (byte)(i * 37)).ToArray();
        for (var length = 0; length <= bytes.Length; length++)
        {
            Assert.True(Base32.TryDecode(Base32.Encode(bytes.AsSpan(0, length)), out var decoded));
            Assert.Equal(bytes[..length], decoded);
        }
        Assert.False(Base32.TryDecode("MY======", out _));
        Assert.False(Base32.TryDecode("MZ", out _)); // "MY" is 0x66; "MZ" leaves a stray 1 bit.
        Assert.False(Base32.TryDecode("M", out _));
    }

    private static string UrlOf(NodeKey key, string domain)
    {
        Span<byte> compressed = stackalloc byte[33];
        key.PrivateKey.CreatePubKey().WriteToSpan(compressed: true, compressed, out _);
        return EnrTreeUrl.Scheme + Base32.Encode(compressed) + "@" + domain;
    }

    /// <summary>A zone whose root is signed by the example's key over subtrees built by the two functions.</summary>
    private static Dictionary<string, string[]> Signed(Func<ZoneBuilder, string> records, Func<ZoneBuilder, string> links)
    {
        var builder = new ZoneBuilder();
        return builder.Finish(records(builder), links(builder));
    }

    private static Dictionary<string, string[]> SignedSame()
    {
        var builder = new ZoneBuilder();
        var branch = builder.Branch(builder.Leaf(0));
        return builder.Finish(branch, branch);
    }

    /// <summary>Writes entries under their hash names and signs a root, by the EIP's rules, not with the walker's code.</summary>
    private sealed class ZoneBuilder
    {
        private readonly Dictionary<string, string[]> _zone = new(StringComparer.Ordinal);

        public string Add(string text)
        {
            var hash = Base32.Encode(Keccak256.Hash(Encoding.UTF8.GetBytes(text)).Bytes[..16]);
            _zone[$"{hash}.{Domain}"] = [text];
            return hash;
        }

        public string Leaf(int index) => Add(Leaves[index]);

        public string Branch(params string[] children) => Add(EnrTreeEntry.BranchPrefix + string.Join(',', children));

        public Dictionary<string, string[]> Finish(string enrRoot, string linkRoot)
        {
            var signed = $"enrtree-root:v1 e={enrRoot} l={linkRoot} seq=9";
            using var key = NodeKey.FromHex(SigningKey);
            var signature = new byte[65];
            Secp256k1Keys.SignRecoverable(key.PrivateKey, Keccak256.Hash(Encoding.UTF8.GetBytes(signed)).ToArray(), signature);
            _zone[Domain] = [signed + " sig=" + Base64Url.EncodeToString(signature)];
            return _zone;
        }
    }

    /// <summary>A resolver over a zone held in memory: no DNS query leaves the process.</summary>
    private sealed class ZoneResolver(Dictionary<string, string[]> zone) : IDnsTxtResolver
    {
        public List<string> Queries { get; } = [];

        public Task<IReadOnlyList<string>> ResolveTxtAsync(string name, CancellationToken cancellationToken)
        {
            Queries.Add(name);
            return Task.FromResult<IReadOnlyList<string>>(zone.TryGetValue(name, out var texts) ? texts : []);
        }
    }
}

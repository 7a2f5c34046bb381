using System.Security.Cryptography;
using System.Text;
using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Core.Primitives;

namespace EngineSkeleton.Core.Tests.Crypto;

public sealed class Keccak256Tests
{
    [Theory]
    [InlineData("the empty input is the code hash of a code-less account", "",
        "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")]
    [InlineData("'abc' is the Keccak team's short-message vector", "abc",
        "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45")]
    [InlineData("'hello world' is widely published for Ethereum keccak256", "hello world",
        "0x47173285a8d7341e5e972fc677286384f802f8ef42a5ec5f03bbfa254cb01fad")]
    [InlineData("a Solidity event signature hashes to its well-known topic", "Transfer(address,address,uint256)",
        "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef")]
    public void Hashes_published_text_vectors(string proves, string input, string expected)
    {
        Assert.NotEmpty(proves);
        Assert.Equal(Hash256.FromHex(expected), Keccak256.Hash(Encoding.ASCII.GetBytes(input)));
    }

    [Fact]
    public void Constants_are_the_hashes_they_name()
    {
        Assert.Equal(Keccak256.Hash([]), Keccak256.OfEmpty);
        Assert.Equal(Keccak256.Hash([0xc0]), Keccak256.OfEmptyList);
        Assert.Equal(Keccak256.Hash([0x80]), Keccak256.EmptyTrieRoot);
    }

    [Fact]
    public void Sha3_padding_gives_the_NIST_vector_for_200_bytes_of_a3()
    {
        // FIPS 202 example "SHA3-256 1600-bit message": 200 bytes of 0xa3, a message longer than one block.
        var output = new byte[32];
        Keccak256.HashCore(Enumerable.Repeat((byte)0xa3, 200).ToArray(), output, Keccak256.Sha3Padding);
        Assert.Equal("0x79f38adec5c20307a98ef76e8324afbfd46cfd81b22e3973c65fa1bd9de31787", Hex.Encode(output));
    }

    [Fact]
    public void Every_length_up_to_three_blocks_matches_the_reference_implementation()
    {
        var random = new Random(20240601);
        for (var length = 0; length <= 3 * Keccak256.Rate + 1; length++)
        {
            var data = new byte[length];
            random.NextBytes(data);
            Assert.Equal(KeccakReference.Hash256(data, Keccak256.KeccakPadding), Keccak256.Hash(data).ToArray());
        }
    }

    [Fact]
    public void Random_long_inputs_match_the_reference_implementation()
    {
        var random = new Random(7);
        for (var i = 0; i < 50; i++)
        {
            var data = new byte[random.Next(0, 5000)];
            random.NextBytes(data);
            Assert.Equal(KeccakReference.Hash256(data, Keccak256.KeccakPadding), Keccak256.Hash(data).ToArray());
        }
    }

    [Fact]
    public void Sha3_padding_matches_dotnet_SHA3_256_when_the_platform_has_it()
    {
        // Same permutation, different padding byte: agreement with OpenSSL pins the permutation itself.
        // xunit 2 cannot skip at run time; without OpenSSL's SHA3 the NIST vector above still covers this.
        if (!SHA3_256.IsSupported)
        {
            return;
        }
        var random = new Random(11);
        var output = new byte[32];
        for (var length = 0; length <= 1000; length += 7)
        {
            var data = new byte[length];
            random.NextBytes(data);
            Keccak256.HashCore(data, output, Keccak256.Sha3Padding);
            Assert.Equal(SHA3_256.HashData(data), output);
        }
    }

    [Fact]
    public void Hasher_fed_in_random_pieces_equals_the_one_shot_hash()
    {
        var random = new Random(3);
        for (var i = 0; i < 200; i++)
        {
            var data = new byte[random.Next(0, 700)];
            random.NextBytes(data);
            var hasher = new Keccak256.Hasher();
            var position = 0;
            while (position < data.Length)
            {
                var take = random.Next(0, data.Length - position + 1);
                hasher.Append(data.AsSpan(position, take));
                position += take;
            }
            Assert.Equal(Keccak256.Hash(data), hasher.Finish());
        }
    }

    [Fact]
    public void Hasher_is_fresh_again_after_Finish()
    {
        var hasher = new Keccak256.Hasher();
        hasher.Append("abc"u8);
        _ = hasher.Finish();
        Assert.Equal(Keccak256.OfEmpty, hasher.Finish());
    }

    [Fact]
    public void Output_span_shorter_than_32_bytes_is_refused()
    {
        var output = new byte[31];
        Assert.Throws<ArgumentException>(() => Keccak256.Hash([1, 2, 3], output));
    }

    [Fact]
    public void Four_way_hashes_equal_the_reference_for_every_length_up_to_three_blocks()
    {
        Assert.True(Keccak256X4.IsSupported, "this machine has no 256-bit vectors; the four-way path would go untested");
        var random = new Random(4);
        var outputs = new byte[Keccak256X4.Ways * Keccak256.HashSize];
        for (var length = 0; length <= 3 * Keccak256.Rate + 1; length++)
        {
            // Four different inputs of lengths with the same block count: lanes must not leak into each other.
            var blockStart = length / Keccak256.Rate * Keccak256.Rate;
            var inputs = new byte[Keccak256X4.Ways][];
            for (var way = 0; way < inputs.Length; way++)
            {
                inputs[way] = new byte[way == 0 ? length : random.Next(blockStart, blockStart + Keccak256.Rate)];
                random.NextBytes(inputs[way]);
            }
            Keccak256X4.Hash(inputs[0], inputs[1], inputs[2], inputs[3], outputs);
            for (var way = 0; way < inputs.Length; way++)
            {
                Assert.Equal(KeccakReference.Hash256(inputs[way], Keccak256.KeccakPadding), outputs.AsSpan(way * 32, 32).ToArray());
            }
        }
    }

    [Fact]
    public void Four_way_refuses_inputs_of_different_block_counts()
    {
        var outputs = new byte[Keccak256X4.Ways * Keccak256.HashSize];
        Assert.Throws<ArgumentException>(() => Keccak256X4.Hash(new byte[135], new byte[136], new byte[10], new byte[0], outputs));
    }

    [Theory]
    [InlineData("none", 0, 600, 600)]
    [InlineData("fewer than four, all hashed one at a time", 3, 600, 610)]
    [InlineData("headers of one shape, not a multiple of four", 513, 600, 620)]
    [InlineData("lengths across a block boundary", 101, 130, 140)]
    [InlineData("more shapes than groups, with empty inputs", 300, 0, 1500)]
    public void HashAll_gives_every_input_its_own_hash(string proves, int count, int minLength, int maxLength)
    {
        Assert.NotEmpty(proves);
        var random = new Random(count);
        var inputs = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            inputs[i] = new byte[random.Next(minLength, maxLength + 1)];
            random.NextBytes(inputs[i]);
        }
        var hashes = new Hash256[count];
        Keccak256.HashAll(inputs, hashes);
        // The same inputs one after another in one buffer, each ending where the next starts.
        var ends = new int[count];
        for (var i = 0; i < count; i++)
        {
            ends[i] = (i == 0 ? 0 : ends[i - 1]) + inputs[i].Length;
        }
        var sliced = new Hash256[count];
        Keccak256.HashAll(inputs.SelectMany(input => input).ToArray(), ends, sliced);
        for (var i = 0; i < count; i++)
        {
            Assert.Equal(Keccak256.Hash(inputs[i]), hashes[i]);
            Assert.Equal(hashes[i], sliced[i]);
        }
    }

    [Fact]
    public void HashAll_refuses_an_output_span_too_short()
    {
        Assert.Throws<ArgumentException>(() => Keccak256.HashAll([[1], [2]], new Hash256[1]));
        Assert.Throws<ArgumentException>(() => Keccak256.HashAll([1, 2], [1, 2], new Hash256[1]));
    }

    [Fact]
    public void HashAll_refuses_inputs_that_end_past_the_buffer()
    {
        Assert.Throws<ArgumentException>(() => Keccak256.HashAll([1, 2], [1, 3], new Hash256[2]));
    }
}

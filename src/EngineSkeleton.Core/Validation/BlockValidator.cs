using EngineSkeleton.Core.Blocks;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Core.Crypto;
using EngineSkeleton.Core.Primitives;
using EngineSkeleton.Core.Rlp;
using EngineSkeleton.Core.Trie;

namespace EngineSkeleton.Core.Validation;

/// <summary>
/// Every check of a block that needs no state (docs/trust.md): the one validator used by every path that imports a block
/// (newPayload, backfill). Proof-of-stake blocks (difficulty 0) get the full post-merge rules; proof-of-work blocks
/// are anchored by hash links and their bodies checked against the header roots only (no ethash).
/// </summary>
public sealed class BlockValidator(ChainSpec spec)
{
    /// <summary>Yellow paper / EIP-1559: the gas limit may move by less than parent/1024 per block.</summary>
    private const ulong GasLimitBoundDivisor = 1024;

    /// <summary>Yellow paper minimum gas limit.</summary>
    private const ulong MinGasLimit = 5000;

    /// <summary>geth's ceiling on gas limits (2^63 − 1).</summary>
    private const ulong MaxGasLimit = long.MaxValue;

    /// <summary>Yellow paper: extraData is at most 32 bytes.</summary>
    private const int MaxExtraDataSize = 32;

    /// <summary>EIP-7934 (Osaka): MAX_BLOCK_SIZE 10 MiB minus a 2 MiB safety margin for the RLP-encoded block.</summary>
    private const int MaxRlpBlockSize = (10 * 1024 * 1024) - (2 * 1024 * 1024);

    /// <summary>EIP-7594 (Osaka): at most six blobs per transaction.</summary>
    private const int MaxBlobsPerTransaction = 6;

    /// <summary>EIP-4844 VERSIONED_HASH_VERSION_KZG.</summary>
    private const byte VersionedHashVersionKzg = 0x01;

    public ChainSpec Spec => spec;

    /// <summary>
    /// Checks a block whose hash is already known to be right against its parent. <paramref name="expectedBlobHashes"/>
    /// (newPayloadV3+) must equal the blob versioned hashes of the block's transactions, in order.
    /// </summary>
    public ValidationResult Validate(Block block, BlockHeader parent, IReadOnlyList<Hash256>? expectedBlobHashes = null) =>
        Validate(block, parent, expectedBlobHashes, bodyChecked: false);

    /// <summary>
    /// As <see cref="Validate(Block, BlockHeader, IReadOnlyList{Hash256}?)"/> for a block whose body already passed
    /// <see cref="ValidateBody"/> (the backfiller checks bodies as they arrive, to blame the peer): the roots are not
    /// computed twice.
    /// </summary>
    public ValidationResult ValidateWithCheckedBody(Block block, BlockHeader parent) =>
        Validate(block, parent, expectedBlobHashes: null, bodyChecked: true);

    private ValidationResult Validate(Block block, BlockHeader parent, IReadOnlyList<Hash256>? expectedBlobHashes, bool bodyChecked)
    {
        var header = block.Header;
        if (header.ParentHash != parent.Hash)
        {
            return ValidationResult.Invalid($"parent hash {header.ParentHash} is not the parent's {parent.Hash}");
        }
        if (header.Number != parent.Number + 1)
        {
            return ValidationResult.Invalid($"number {header.Number} does not follow parent {parent.Number}");
        }
        if (!header.Difficulty.IsZero)
        {
            // Pre-merge: no ethash (docs/trust.md); the body must still match what the header commits to.
            return parent.Difficulty.IsZero ? ValidationResult.Invalid("proof-of-work block after a proof-of-stake parent")
                : bodyChecked ? ValidationResult.Valid
                : ValidateBody(block, allowOmmers: true);
        }
        var result = ValidateHeader(header, parent);
        if (!result.IsValid)
        {
            return result;
        }
        result = bodyChecked ? ValidationResult.Valid : ValidateBody(block, allowOmmers: false);
        return result.IsValid ? ValidateBlobs(block, expectedBlobHashes) : result;
    }

    /// <summary>The post-merge header rules against the parent.</summary>
    public ValidationResult ValidateHeader(BlockHeader header, BlockHeader parent)
    {
        if (header.Timestamp <= parent.Timestamp)
        {
            return ValidationResult.Invalid($"timestamp {header.Timestamp} is not after parent's {parent.Timestamp}");
        }
        if (header.ExtraData.Length > MaxExtraDataSize)
        {
            return ValidationResult.Invalid($"extraData is {header.ExtraData.Length} bytes, more than {MaxExtraDataSize}");
        }
        if (header.Nonce != 0)
        {
            return ValidationResult.Invalid("nonce is not zero after the merge");
        }
        if (header.OmmersHash != Keccak256.OfEmptyList)
        {
            return ValidationResult.Invalid("ommers hash is not the empty list's after the merge");
        }
        if (header.GasUsed > header.GasLimit)
        {
            return ValidationResult.Invalid($"gasUsed {header.GasUsed} exceeds gasLimit {header.GasLimit}");
        }
        var gasLimit = CheckGasLimit(header, parent);
        if (!gasLimit.IsValid)
        {
            return gasLimit;
        }
        if (spec.IsLondon(header.Number))
        {
            var expected = BaseFee.For(spec, parent);
            if (header.BaseFeePerGas != expected)
            {
                return ValidationResult.Invalid($"baseFeePerGas {header.BaseFeePerGas} is not the expected {expected}");
            }
        }
        else if (header.BaseFeePerGas is not null)
        {
            return ValidationResult.Invalid("baseFeePerGas before London");
        }
        return CheckForkFields(header, parent);
    }

    private ValidationResult CheckGasLimit(BlockHeader header, BlockHeader parent)
    {
        var parentLimit = spec.IsLondon(parent.Number) || !spec.IsLondon(header.Number)
            ? parent.GasLimit
            : parent.GasLimit * BaseFee.ElasticityMultiplier; // the London block doubles the limit (EIP-1559)
        var difference = header.GasLimit > parentLimit ? header.GasLimit - parentLimit : parentLimit - header.GasLimit;
        if (difference >= parentLimit / GasLimitBoundDivisor)
        {
            return ValidationResult.Invalid($"gasLimit {header.GasLimit} moves too far from parent's {parentLimit}");
        }
        if (header.GasLimit < MinGasLimit || header.GasLimit > MaxGasLimit)
        {
            return ValidationResult.Invalid($"gasLimit {header.GasLimit} is outside [{MinGasLimit}, {MaxGasLimit}]");
        }
        return ValidationResult.Valid;
    }

    private ValidationResult CheckForkFields(BlockHeader header, BlockHeader parent)
    {
        var fork = spec.ForkAt(header.Timestamp);
        if ((header.WithdrawalsRoot is not null) != (fork >= Fork.Shanghai))
        {
            return ValidationResult.Invalid(fork >= Fork.Shanghai ? "withdrawalsRoot missing after Shanghai" : "withdrawalsRoot before Shanghai");
        }
        var cancun = fork >= Fork.Cancun;
        if ((header.BlobGasUsed is not null) != cancun || (header.ExcessBlobGas is not null) != cancun || (header.ParentBeaconBlockRoot is not null) != cancun)
        {
            return ValidationResult.Invalid(cancun ? "blob gas fields or parentBeaconBlockRoot missing after Cancun" : "blob gas fields before Cancun");
        }
        if ((header.RequestsHash is not null) != (fork >= Fork.Prague))
        {
            return ValidationResult.Invalid(fork >= Fork.Prague ? "requestsHash missing after Prague" : "requestsHash before Prague");
        }
        if (cancun)
        {
            var parameters = spec.BlobParametersAt(header.Timestamp)!;
            if (header.BlobGasUsed > parameters.MaxBlobGas)
            {
                return ValidationResult.Invalid($"blobGasUsed {header.BlobGasUsed} exceeds the maximum {parameters.MaxBlobGas}");
            }
            if (header.BlobGasUsed % BlobParameters.GasPerBlob != 0)
            {
                return ValidationResult.Invalid($"blobGasUsed {header.BlobGasUsed} is not a multiple of {BlobParameters.GasPerBlob}");
            }
            var expected = BlobGas.ExcessFor(spec, parent, header.Timestamp);
            if (header.ExcessBlobGas != expected)
            {
                return ValidationResult.Invalid($"excessBlobGas {header.ExcessBlobGas} is not the expected {expected}");
            }
        }
        return ValidationResult.Valid;
    }

    /// <summary>The body against the roots its header commits to.</summary>
    public ValidationResult ValidateBody(Block block, bool allowOmmers)
    {
        var header = block.Header;
        var body = block.Body;
        if (!allowOmmers && body.Ommers.Count != 0)
        {
            return ValidationResult.Invalid("ommers after the merge");
        }
        for (var i = 0; i < body.Transactions.Count; i++)
        {
            if (!Transactions.IsWellFormed(body.Transactions[i], out var error))
            {
                return ValidationResult.Invalid($"transaction {i} is malformed: {error}");
            }
        }
        if (TrieRoots.OfList(body.Transactions) != header.TransactionsRoot)
        {
            return ValidationResult.Invalid("transactions do not match transactionsRoot");
        }
        if (allowOmmers && OmmersHash(body.Ommers) != header.OmmersHash)
        {
            return ValidationResult.Invalid("ommers do not match ommersHash");
        }
        if ((body.Withdrawals is null) != (header.WithdrawalsRoot is null))
        {
            return ValidationResult.Invalid(body.Withdrawals is null ? "withdrawals missing" : "withdrawals where the header has no withdrawalsRoot");
        }
        if (body.Withdrawals is { } withdrawals && TrieRoots.OfWithdrawals(withdrawals) != header.WithdrawalsRoot)
        {
            return ValidationResult.Invalid("withdrawals do not match withdrawalsRoot");
        }
        if (spec.ForkAt(header.Timestamp) >= Fork.Osaka && header.Difficulty.IsZero && block.Encode().Length > MaxRlpBlockSize)
        {
            return ValidationResult.Invalid($"block is larger than {MaxRlpBlockSize} bytes RLP-encoded (EIP-7934)");
        }
        return ValidationResult.Valid;
    }

    private ValidationResult ValidateBlobs(Block block, IReadOnlyList<Hash256>? expected)
    {
        var header = block.Header;
        var cancun = header.BlobGasUsed is not null;
        var osaka = spec.ForkAt(header.Timestamp) >= Fork.Osaka;
        var actual = new List<Hash256>();
        foreach (var tx in block.Body.Transactions)
        {
            if (!Transactions.TryGetBlobVersionedHashes(tx, out var hashes, out var error))
            {
                return ValidationResult.Invalid($"blob transaction is malformed: {error}");
            }
            if (hashes.Count == 0)
            {
                continue;
            }
            if (!cancun)
            {
                return ValidationResult.Invalid("blob transaction before Cancun");
            }
            if (osaka && hashes.Count > MaxBlobsPerTransaction)
            {
                return ValidationResult.Invalid($"blob transaction carries {hashes.Count} blobs, more than {MaxBlobsPerTransaction}");
            }
            foreach (var hash in hashes)
            {
                if (hash.Bytes[0] != VersionedHashVersionKzg)
                {
                    return ValidationResult.Invalid($"blob versioned hash {hash} has version {hash.Bytes[0]}, not {VersionedHashVersionKzg}");
                }
            }
            actual.AddRange(hashes);
        }
        if (cancun && (ulong)actual.Count * BlobParameters.GasPerBlob != header.BlobGasUsed)
        {
            return ValidationResult.Invalid($"blobGasUsed {header.BlobGasUsed} does not match {actual.Count} blobs");
        }
        if (expected is not null && !actual.SequenceEqual(expected))
        {
            return ValidationResult.Invalid($"blob versioned hashes do not match: block has {actual.Count}, expected {expected.Count}");
        }
        return ValidationResult.Valid;
    }

    /// <summary>keccak256 of the RLP list of ommer headers.</summary>
    private static Hash256 OmmersHash(IReadOnlyList<BlockHeader> ommers)
    {
        var encoded = ommers.Select(o => o.Encode()).ToArray();
        var payload = encoded.Sum(e => e.Length);
        var buffer = new byte[RlpWriter.LengthOfList(payload)];
        var writer = new RlpWriter(buffer);
        writer.WriteListHeader(payload);
        foreach (var e in encoded)
        {
            writer.WriteRaw(e);
        }
        return Keccak256.Hash(buffer);
    }
}

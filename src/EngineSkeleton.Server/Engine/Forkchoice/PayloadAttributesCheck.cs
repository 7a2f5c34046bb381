using System.Text.Json;
using EngineSkeleton.Core.Chain;
using EngineSkeleton.Server.Engine.Wire;
using EngineSkeleton.Server.Rpc;

namespace EngineSkeleton.Server.Engine.Forkchoice;

/// <summary>
/// PayloadAttributes checks per forkchoiceUpdated version, run only once the head is VALID and the forkchoice
/// applied (paris.md point 8): structure → -38003 (V1 shape errors are -32602 there being no other rule), fork →
/// -38005, timestamp not after the head → -38003.
/// </summary>
internal static class PayloadAttributesCheck
{
    public static void Validate(JsonElement attributes, int version, ChainSpec spec, ulong headTimestamp)
    {
        var o = attributes.ValueKind == JsonValueKind.Object
            ? attributes
            : throw RpcException.InvalidPayloadAttributes("payloadAttributes is not an object");
        ulong timestamp;
        try
        {
            timestamp = Params.UInt64(o, "timestamp");
            Params.Hash(o, "prevRandao");
            Params.Address(o, "suggestedFeeRecipient");
        }
        catch (RpcException e)
        {
            throw RpcException.InvalidPayloadAttributes(e.Message);
        }
        var fork = spec.ForkAt(timestamp);
        var hasWithdrawals = Params.Has(o, "withdrawals");
        var hasBeaconRoot = Params.Has(o, "parentBeaconBlockRoot");
        switch (version)
        {
            case 1 when hasWithdrawals || hasBeaconRoot:
                throw RpcException.InvalidPayloadAttributes("PayloadAttributesV1 has no withdrawals or parentBeaconBlockRoot");
            case 2 when hasBeaconRoot:
                throw RpcException.InvalidPayloadAttributes("PayloadAttributesV2 has no parentBeaconBlockRoot");
            case 2 when hasWithdrawals != (fork >= Fork.Shanghai):
                throw RpcException.InvalidPayloadAttributes(hasWithdrawals ? "withdrawals before Shanghai" : "missing withdrawals after Shanghai");
            case 3 when !hasWithdrawals || !hasBeaconRoot:
                throw RpcException.InvalidPayloadAttributes("PayloadAttributesV3 needs withdrawals and parentBeaconBlockRoot");
            default:
                break;
        }
        if (hasWithdrawals)
        {
            try
            {
                PayloadJson.ParseWithdrawals(Params.RequireArray(Params.Field(o, "withdrawals"), "withdrawals"));
                if (hasBeaconRoot)
                {
                    Params.Hash(o, "parentBeaconBlockRoot");
                }
            }
            catch (RpcException e)
            {
                throw RpcException.InvalidPayloadAttributes(e.Message);
            }
        }
        var supported = version switch
        {
            1 => fork <= Fork.Shanghai, // paris.md has no fork rule; Cancun+ is refused by cancun.md's update of V1/V2 callers
            2 => fork <= Fork.Shanghai,
            _ => fork >= Fork.Cancun,
        };
        if (!supported)
        {
            throw RpcException.UnsupportedFork($"payloadAttributes timestamp {timestamp} is {fork}, not served by forkchoiceUpdatedV{version}");
        }
        if (timestamp <= headTimestamp)
        {
            throw RpcException.InvalidPayloadAttributes($"payloadAttributes timestamp {timestamp} is not after the head's {headTimestamp}");
        }
    }
}

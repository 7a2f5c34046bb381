using System.Text;
using EngineSkeleton.Network.Rpc;
using EngineSkeleton.Sync.Peers;

namespace EngineSkeleton.Network.Tests.Rpc;

/// <summary>Inputs the fuzz targets (tests/EngineSkeleton.Fuzz, docs/fuzzing.md) found in the JSON-RPC peer's readers.</summary>
public sealed class FuzzRegressionTests
{
    /// <summary>Found by the "rpc-peer" target: a debug_getRawHeader answer whose hex string holds the byte 0xff.</summary>
    [Fact]
    public void An_answer_with_invalid_UTF8_in_a_string_is_the_peer_s_fault()
    {
        byte[] body = [.. Encoding.ASCII.GetBytes("""[{"jsonrpc":"2.0","id":0,"result":"0xf9"""), 0xff, .. Encoding.ASCII.GetBytes("\"}]")];

        Assert.Throws<PeerException>(() =>
        {
            using var batch = JsonRpcBatch.Parse(body, 1);
            RpcAnswers.RawHeader(batch[0], 0);
        });
    }
}

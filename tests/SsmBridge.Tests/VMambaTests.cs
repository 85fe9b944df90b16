using SsmBridge.Modules;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace SsmBridge.Tests;

[Collection(ScanCollection.Name)]
public class VMambaTests
{
    private static VSSM Build(string name, long numClasses = 1000, double dropPath = -1,
                             ScanImplementation scan = ScanImplementation.Fused, bool channelFirst = true) => name switch {
        "vmamba_tiny_s1l8" => models.vmamba_tiny_s1l8(numClasses, dropPath < 0 ? 0.2 : dropPath, channelFirst, scan),
        "vanilla_vmamba_tiny" => models.vanilla_vmamba_tiny(numClasses, dropPath < 0 ? 0.2 : dropPath, scan),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [InlineData("vmamba_tiny_s1l8", 30_249_064L)]
    [InlineData("vanilla_vmamba_tiny", 22_893_448L)]
    public void ParameterCountsAreTheOfficialOnes(string name, long expected)
    {
        using var model = Build(name);
        Assert.Equal(expected, ModelAssert.ParameterCount(model));
    }

    [Theory]
    [InlineData("vmamba_tiny_s1l8", true)]
    [InlineData("vmamba_tiny_s1l8", false)]
    [InlineData("vanilla_vmamba_tiny", false)]
    public void StateDictKeysAndShapesEqualTheOfficialCheckpoint(string name, bool channelFirst)
    {
        using var model = Build(name, channelFirst: channelFirst);
        var ours = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        var official = CheckpointKeys.Read(name);
        Assert.Equal(official.Select(k => k.Key).OrderBy(k => k, StringComparer.Ordinal),
                     ours.Keys.OrderBy(k => k, StringComparer.Ordinal));
        foreach (var (key, shape) in official)
            Assert.True(shape.SequenceEqual(ours[key]), $"{key}: official [{string.Join(", ", shape)}], ours [{string.Join(", ", ours[key])}]");
    }

    [Theory]
    [InlineData(224)]
    [InlineData(256)]
    [InlineData(384)]
    public void VMambaTinyRunsAtAnyResolution(int size)
    {
        using var scope = NewDisposeScope();
        using var model = models.vmamba_tiny_s1l8();
        model.eval();
        using var noGrad = no_grad();
        var logits = model.forward(randn(1, 3, size, size));
        Assert.Equal(new long[] { 1, 1000 }, logits.shape);
        Assert.True(logits.isfinite().all().item<bool>());
    }

    [Theory]
    [InlineData("vmamba_tiny_s1l8", 100, 72)]
    [InlineData("vanilla_vmamba_tiny", 100, 72)]
    [InlineData("vanilla_vmamba_tiny", 224, 224)]
    public void OddAndNonSquareImagesWork(string name, int height, int width)
    {
        using var scope = NewDisposeScope();
        using var model = Build(name, numClasses: 7);
        model.eval();
        using var noGrad = no_grad();
        var logits = model.forward(randn(2, 3, height, width));
        Assert.Equal(new long[] { 2, 7 }, logits.shape);
        Assert.True(logits.isfinite().all().item<bool>());
    }

    [Theory]
    [InlineData("vmamba_tiny_s1l8")]
    [InlineData("vanilla_vmamba_tiny")]
    public void BackwardReachesEveryParameter(string name)
    {
        using var scope = NewDisposeScope();
        // Training mode without stochastic depth, so no block's branch is dropped for the whole batch.
        using var model = Build(name, numClasses: 10, dropPath: 0);
        model.train();
        var logits = model.forward(randn(2, 3, 64, 64));
        Assert.Equal(new long[] { 2, 10 }, logits.shape);
        logits.square().sum().backward();
        foreach (var (param, p) in model.named_parameters()) {
            Assert.True(p.grad is not null, $"{param} has no gradient");
            Assert.True(p.grad!.abs().sum().item<float>() > 0, $"{param} has an all-zero gradient");
        }
    }

    // Small images keep the reference scan's loop short; at 32 the first VMamba's last stage is 1x1 (L = 1).
    [Theory]
    [InlineData("vmamba_tiny_s1l8", 64)]
    [InlineData("vanilla_vmamba_tiny", 32)]
    public void FusedAndReferenceOpsGiveTheSameLogitsAndGradients(string name, int size)
    {
        var seed = Seeds.Next();
        manual_seed((long)seed);
        using var scope = NewDisposeScope();
        using var fused = Build(name, numClasses: 10);
        using var naive = Build(name, numClasses: 10, scan: ScanImplementation.Reference);
        ModelAssert.CopyWeights(fused, naive);
        fused.eval();
        naive.eval();
        var image = randn(2, 3, size, size);
        var a = fused.forward(image);
        var b = naive.forward(image);
        Assert.True(ModelAssert.RelativeError(a, b) < 1e-4, $"logits differ: {ModelAssert.RelativeError(a, b):E2}, {Seeds.Describe(seed)}");

        a.square().sum().backward();
        b.square().sum().backward();
        ModelAssert.GradientsAgree(fused, naive, 1e-4, $", {Seeds.Describe(seed)}");
    }

    [Fact]
    public void ChannelFirstAndChannelLastModelsAgree()
    {
        using var scope = NewDisposeScope();
        using var first = models.vmamba_tiny_s1l8(num_classes: 10);
        using var last = models.vmamba_tiny_s1l8(num_classes: 10, channel_first: false);
        ModelAssert.CopyWeights(first, last);
        first.eval();
        last.eval();
        using var noGrad = no_grad();
        var image = randn(2, 3, 64, 96);
        var err = ModelAssert.RelativeError(last.forward(image), first.forward(image));
        Assert.True(err < 1e-5, $"relative error {err:E2}");
    }

    [Theory]
    [InlineData("vmamba_tiny_s1l8")]
    [InlineData("vanilla_vmamba_tiny")]
    public void CheckpointWithOfficialKeysLoadsCompletely(string name)
    {
        using var scope = NewDisposeScope();
        var state = new Dictionary<string, Tensor>();
        foreach (var (key, shape) in CheckpointKeys.Read(name)) state[key] = randn(shape);
        using var model = LoadPickled(name, ToHashtable(state), out var report);
        var loaded = model.state_dict();
        Assert.True(report.IsComplete, report.ToString());
        Assert.Equal(state.Count, report.Loaded.Count);
        foreach (var (key, t) in state) Assert.True(ModelAssert.Same(loaded[key], t), key);
    }

    [Fact]
    public void FirstVersionNamesAreRenamedOnLoad()
    {
        using var scope = NewDisposeScope();
        var state = new Dictionary<string, Tensor>();
        foreach (var (key, shape) in CheckpointKeys.Read("vanilla_vmamba_tiny")) state[key] = randn(shape);
        var old = new System.Collections.Hashtable();
        foreach (var (key, t) in state) old[FirstVersionName(key)] = t;
        Assert.Contains("layers.2.blocks.8.self_attention.A_logs", old.Keys.Cast<string>());
        Assert.Contains("layers.0.blocks.1.ln_1.weight", old.Keys.Cast<string>());
        Assert.Contains("patch_embed.proj.weight", old.Keys.Cast<string>());
        Assert.Contains("head.bias", old.Keys.Cast<string>());

        using var model = LoadPickled("vanilla_vmamba_tiny", new System.Collections.Hashtable { ["model"] = old }, out var report);
        var loaded = model.state_dict();
        Assert.True(report.IsComplete, report.ToString());
        foreach (var (key, t) in state) Assert.True(ModelAssert.Same(loaded[key], t), key);
    }

    [Fact]
    public void ConvShapedProjectionWeightsLoadIntoLinear2d()
    {
        using var scope = NewDisposeScope();
        var state = new System.Collections.Hashtable();
        Tensor? inProj = null;
        foreach (var (key, shape) in CheckpointKeys.Read("vmamba_tiny_s1l8")) {
            var t = randn(shape);
            if (key == "layers.0.blocks.0.op.in_proj.weight") {
                inProj = t;
                t = t.view(shape[0], shape[1], 1, 1);
            }
            state[key] = t;
        }
        using var model = LoadPickled("vmamba_tiny_s1l8", state, out var report);
        var loaded = model.state_dict();
        Assert.True(report.IsComplete, report.ToString());
        Assert.True(ModelAssert.Same(loaded["layers.0.blocks.0.op.in_proj.weight"], inProj!));
    }

    [Fact]
    public void InitialisationFollowsVSSM()
    {
        using var scope = NewDisposeScope();
        using var model = models.vmamba_tiny_s1l8();
        var p = model.state_dict();
        // Linears (Linear2d included): truncated normal with std 0.02, zero bias.
        foreach (var key in new[] { "classifier.head.weight", "layers.2.blocks.3.op.in_proj.weight", "layers.1.blocks.0.mlp.fc1.weight" })
            Assert.InRange(p[key].std().item<float>(), 0.018f, 0.022f);
        Assert.Equal(0f, p["layers.1.blocks.0.mlp.fc1.bias"].abs().max().item<float>());
        Assert.Equal(0f, p["classifier.head.bias"].abs().max().item<float>());
        Assert.True(ModelAssert.Same(p["layers.0.blocks.0.norm.weight"], ones(96)));
        Assert.True(ModelAssert.Same(p["layers.3.blocks.1.op.Ds"], ones(4 * 768)));
        Assert.True(ModelAssert.Same(p["layers.3.blocks.1.op.A_logs"], zeros(4 * 768, 1)));
    }

    // The model, not just its state_dict(): the caller disposes it once it has read the state.
    private static VSSM LoadPickled(string name, System.Collections.IDictionary pickled, out LoadReport report)
    {
        var path = Path.Combine(Path.GetTempPath(), $"{name}-{Guid.NewGuid():N}.pth");
        try {
            PyTorchPickler.PickleStateDict(path, pickled);
            var model = Build(name);
            report = models.load_pretrained(model, path, strict: false);
            return model;
        } finally {
            File.Delete(path);
        }
    }

    // The first VMamba code's names: patch_embed.proj / .norm, blocks' ln_1 and self_attention, top-level norm and head.
    private static string FirstVersionName(string key) => key
        .Replace("patch_embed.0.", "patch_embed.proj.")
        .Replace("patch_embed.2.", "patch_embed.norm.")
        .Replace(".norm.", key.StartsWith("layers.", StringComparison.Ordinal) && key.Contains(".blocks.") ? ".ln_1." : ".norm.")
        .Replace(".op.", ".self_attention.")
        .Replace("classifier.norm.", "norm.")
        .Replace("classifier.head.", "head.");

    private static System.Collections.Hashtable ToHashtable(Dictionary<string, Tensor> state)
    {
        var table = new System.Collections.Hashtable();
        foreach (var (k, v) in state) table[k] = v;
        return table;
    }
}

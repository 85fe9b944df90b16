using SsmBridge.Modules;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace SsmBridge.Tests;

[Collection(ScanCollection.Name)]
public class VisionMambaTests
{
    [Theory]
    [InlineData("tiny", 7_148_008L)]
    [InlineData("small", 25_796_584L)]
    [InlineData("base", 97_598_440L)]
    public void ParameterCountsAreTheOfficialOnes(string size, long expected)
    {
        using var model = size switch {
            "tiny" => models.vim_tiny_patch16_224(),
            "small" => models.vim_small_patch16_224(),
            _ => models.vim_base_patch16_224(),
        };
        Assert.Equal(expected, ModelAssert.ParameterCount(model));
    }

    [Fact]
    public void StateDictKeysAndShapesEqualTheOfficialCheckpoint()
    {
        using var model = models.vim_tiny_patch16_224();
        var ours = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        var official = CheckpointKeys.Read("vim_tiny_patch16_224");
        Assert.Equal(official.Select(k => k.Key).OrderBy(k => k, StringComparer.Ordinal),
                     ours.Keys.OrderBy(k => k, StringComparer.Ordinal));
        foreach (var (key, shape) in official) Assert.True(shape.SequenceEqual(ours[key]), key);
    }

    [Fact]
    public void ForwardGivesLogitsAndBackwardReachesEveryParameter()
    {
        using var scope = NewDisposeScope();
        // Training mode without stochastic depth, so no block's branch is dropped for the whole batch.
        using var model = models.vim_tiny_patch16_224(num_classes: 10, drop_path_rate: 0);
        model.train();
        var logits = model.forward(randn(2, 3, 224, 224));
        Assert.Equal(new long[] { 2, 10 }, logits.shape);
        logits.square().sum().backward();
        foreach (var (name, p) in model.named_parameters()) {
            Assert.True(p.grad is not null, $"{name} has no gradient");
            Assert.True(p.grad!.abs().sum().item<float>() > 0, $"{name} has an all-zero gradient");
        }
    }

    [Fact]
    public void InitialisationFollowsVim()
    {
        using var scope = NewDisposeScope();
        using var model = models.vim_tiny_patch16_224();
        var p = model.state_dict();
        foreach (var key in new[] { "pos_embed", "cls_token", "head.weight" }) {
            var t = p[key];
            Assert.InRange(t.std().item<float>(), key == "cls_token" ? 0.008f : 0.016f, key == "cls_token" ? 0.03f : 0.021f);
            Assert.True(t.abs().max().item<float>() <= 0.04f + 1e-6f, key);
        }
        Assert.Equal(0f, p["head.bias"].abs().max().item<float>());
        // Only the forward direction's dt bias keeps Mamba's init; every other Linear bias is zero.
        Assert.True(p["layers.3.mixer.dt_proj.bias"].abs().min().item<float>() > 0);
        Assert.Equal(0f, p["layers.3.mixer.dt_proj_b.bias"].abs().max().item<float>());
        // out_proj: Kaiming-uniform (bound 1/sqrt(fan_in)) shrunk by sqrt(depth).
        var bound = 1 / Math.Sqrt(384) / Math.Sqrt(24);
        Assert.InRange(p["layers.0.mixer.out_proj.weight"].abs().max().item<float>(), 0.9 * bound, bound * 1.0001);
    }

    [Fact]
    public void ClassTokenSitsInTheMiddleAndIsWhatTheHeadReads()
    {
        using var scope = NewDisposeScope();
        using var model = models.vim_tiny_patch16_224(num_classes: 0);
        Assert.Equal(98, model.ClassTokenIndex(196));
        model.eval();
        var image = randn(1, 3, 224, 224);
        var before = model.forward_features(image);
        // The class token's own value changes the features; the head reads that token.
        using (no_grad()) model.get_parameter("cls_token")!.add_(1.0);
        var after = model.forward_features(image);
        Assert.True(ModelAssert.RelativeError(after, before) > 1e-3);
    }

    [Fact]
    public void FusedAndReferenceScansGiveTheSameLogitsAndGradients()
    {
        using var scope = NewDisposeScope();
        // Vim-Ti's blocks at a small image (4x4 patches + the class token) keep the reference loop short.
        using var fused = models.vim_tiny_patch16_224(num_classes: 10, img_size: 64);
        using var naive = models.vim_tiny_patch16_224(num_classes: 10, img_size: 64, scan: ScanImplementation.Reference);
        ModelAssert.CopyWeights(fused, naive);
        fused.eval();
        naive.eval();
        var image = randn(2, 3, 64, 64);
        var a = fused.forward(image);
        var b = naive.forward(image);
        Assert.True(ModelAssert.RelativeError(a, b) < 1e-4, $"logits differ: {ModelAssert.RelativeError(a, b):E2}");

        a.square().sum().backward();
        b.square().sum().backward();
        ModelAssert.GradientsAgree(fused, naive, 1e-4);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void CheckpointWithOfficialKeysLoadsCompletely(bool wrappedInTrainingPickle)
    {
        using var scope = NewDisposeScope();
        var state = new Dictionary<string, Tensor>();
        foreach (var (key, shape) in CheckpointKeys.Read("vim_tiny_patch16_224")) state[key] = randn(shape);
        var path = Path.Combine(Path.GetTempPath(), $"vim-official-{Guid.NewGuid():N}.pth");
        try {
            System.Collections.IDictionary pickled = wrappedInTrainingPickle
                ? new System.Collections.Hashtable { ["model"] = ToHashtable(state), ["epoch"] = 299 }
                : ToHashtable(state);
            PyTorchPickler.PickleStateDict(path, pickled);
            using var model = models.vim_tiny_patch16_224();
            var report = models.load_pretrained(model, path);
            Assert.True(report.IsComplete, report.ToString());
            Assert.Equal(state.Count, report.Loaded.Count);
            var loaded = model.state_dict();
            foreach (var (key, t) in state) Assert.True(ModelAssert.Same(loaded[key], t), key);
        } finally {
            File.Delete(path);
        }
    }

    [Fact]
    public void MissingAndUnexpectedKeysAreReported()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(Path.GetTempPath(), $"vim-partial-{Guid.NewGuid():N}.safetensors");
        try {
            using var source = models.vim_tiny_patch16_224();
            var state = source.state_dict().Where(kv => kv.Key != "norm_f.weight").ToDictionary(kv => kv.Key, kv => kv.Value);
            state["extra.weight"] = zeros(3);
            Safetensors.SaveStateDict(path, state);
            using var model = models.vim_tiny_patch16_224();
            var error = Assert.Throws<InvalidDataException>(() => models.load_pretrained(model, path));
            Assert.Contains("norm_f.weight", error.Message);
            Assert.Contains("extra.weight", error.Message);
            var report = models.load_pretrained(model, path, strict: false);
            Assert.Equal(new[] { "norm_f.weight" }, report.MissingKeys);
            Assert.Equal(new[] { "extra.weight" }, report.UnexpectedKeys);
        } finally {
            File.Delete(path);
        }
    }

    [Fact]
    public void SaveLoadRoundTripReproducesLogits()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(Path.GetTempPath(), $"vim-roundtrip-{Guid.NewGuid():N}.pth");
        try {
            using var a = models.vim_tiny_patch16_224(num_classes: 10, img_size: 96);
            a.eval();
            var image = randn(1, 3, 96, 96);
            var expected = a.forward(image);
            a.save_py(path);
            using var b = models.vim_tiny_patch16_224(num_classes: 10, img_size: 96);
            b.eval();
            Assert.True(models.load_pretrained(b, path).IsComplete);
            Assert.True(ModelAssert.Same(b.forward(image), expected));
        } finally {
            File.Delete(path);
        }
    }

    [Fact]
    public void PositionEmbeddingResizesTo384AtLoadTimeAndOnTheFly()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(Path.GetTempPath(), $"vim-224-{Guid.NewGuid():N}.safetensors");
        try {
            using var at224 = models.vim_tiny_patch16_224(num_classes: 10);
            Safetensors.SaveStateDict(path, at224.state_dict());
            using var at384 = models.vim_tiny_patch16_224(num_classes: 10, img_size: 384);
            var report = models.load_pretrained(at384, path);
            Assert.Equal(new[] { "pos_embed" }, report.Resized);
            Assert.Equal(new long[] { 1, 24 * 24 + 1, 192 }, at384.state_dict()["pos_embed"].shape);
            // The class token's embedding moves from the middle of 14x14 to the middle of 24x24.
            var old = at224.state_dict()["pos_embed"];
            Assert.True(ModelAssert.Same(at384.state_dict()["pos_embed"][0, 288], old[0, 98]));

            at384.eval();
            Assert.Equal(new long[] { 1, 10 }, at384.forward(randn(1, 3, 384, 384)).shape);
            at224.eval();
            Assert.Equal(new long[] { 1, 10 }, at224.forward(randn(1, 3, 384, 384)).shape);
        } finally {
            File.Delete(path);
        }
    }

    [Fact]
    public void ResizingToTheSameGridIsTheIdentity()
    {
        using var scope = NewDisposeScope();
        var pos = randn(1, 197, 8);
        Assert.True(ModelAssert.Same(PositionEmbedding.Resize(pos, (14, 14), (14, 14)), pos));
        var there = PositionEmbedding.Resize(pos, (14, 14), (28, 28));
        var back = PositionEmbedding.Resize(there, (28, 28), (14, 14));
        Assert.True(ModelAssert.Same(back[0, 98], pos[0, 98]));
    }

    [Fact]
    public void DropPathDropsWholeSamplesAndKeepsTheExpectation()
    {
        using var scope = NewDisposeScope();
        using var dropPath = new DropPath(0.25);
        dropPath.train();
        var y = dropPath.forward(ones(4000, 3, 5));
        var perSample = y.reshape(4000, -1);
        // Each sample is either all zero or all 1 / (1 - p).
        Assert.True((perSample.amax(1) == perSample.amin(1)).all().item<bool>());
        var kept = (perSample.select(1, 0) > 0).to_type(ScalarType.Float64).mean().item<double>();
        Assert.InRange(kept, 0.72, 0.78);
        Assert.InRange(y.mean().item<float>(), 0.94f, 1.06f);
        dropPath.eval();
        Assert.True(ModelAssert.Same(dropPath.forward(y), y));
    }

    private static System.Collections.Hashtable ToHashtable(Dictionary<string, Tensor> state)
    {
        var table = new System.Collections.Hashtable();
        foreach (var (k, v) in state) table[k] = v;
        return table;
    }
}

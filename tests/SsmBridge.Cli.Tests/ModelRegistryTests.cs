using SsmBridge.Cli;
using SsmBridge.Modules;
using static TorchSharp.torch;

namespace SsmBridge.Cli.Tests;

public class ModelRegistryTests
{
    [Fact]
    public void Finds_every_factory_and_the_presets_by_reflection()
    {
        var names = ModelRegistry.Names.ToList();
        Assert.Contains("vim_tiny_patch16_224", names);
        Assert.Contains("vmamba_tiny_s1l8", names);
        Assert.Contains("vim_demo", ModelRegistry.Presets);
        Assert.Contains("vmamba_demo", ModelRegistry.Presets);
        Assert.DoesNotContain("load_pretrained", names);
        // Every preset takes the shared signature, so s4nd_demo works as soon as it exists.
        foreach (var preset in ModelRegistry.Presets) {
            var f = ModelRegistry.Get(preset);
            Assert.True(f.TakesImageSize);
            Assert.Equal(28, f.DefaultImageSize);
            Assert.Equal(1, f.InputChannels(1));
        }
    }

    [Fact]
    public void Builds_a_preset_for_grey_28x28_images_with_overrides()
    {
        var model = ModelRegistry.Get("vim_demo").Create(numClasses: 7, inChannels: 1, imageSize: 28,
                                                          new Dictionary<string, string> { ["embed_dim"] = "32", ["depth"] = "2" });
        var vim = Assert.IsType<VisionMamba>(model);
        Assert.Equal(32, vim.Config.EmbedDim);
        Assert.Equal(2, vim.Config.Depth);
        model.eval();
        using var noGrad = no_grad();
        using var logits = model.forward(randn(3, 1, 28, 28));
        Assert.Equal(new long[] { 3, 7 }, logits.shape);
    }

    [Fact]
    public void Published_factories_take_rgb_input()
    {
        var f = ModelRegistry.Get("vmamba_tiny_s1l8");
        Assert.Equal(3, f.InputChannels(1));
        Assert.False(f.TakesImageSize);
    }

    [Fact]
    public void Unknown_models_and_arguments_are_clear_errors()
    {
        var e = Assert.Throws<CliException>(() => ModelRegistry.Get("vim_dmo"));
        Assert.Contains("unknown model 'vim_dmo' (did you mean 'vim_demo'?)", e.Message);
        Assert.Contains("vmamba_demo", e.Message);
        var f = ModelRegistry.Get("vim_demo");
        Assert.Contains("has no argument 'width'", Assert.Throws<CliException>(() => f.Create(10, 1, 28, new Dictionary<string, string> { ["width"] = "3" })).Message);
        Assert.Contains("expects a Int64", Assert.Throws<CliException>(() => f.Create(10, 1, 28, new Dictionary<string, string> { ["embed_dim"] = "wide" })).Message);
    }
}

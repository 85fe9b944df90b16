using SsmBridge.Cli.Data;
using SsmBridge.Cli.Training;
using static TorchSharp.torch;

namespace SsmBridge.Cli.Tests;

public class ReceptiveFieldTests
{
    [Theory]
    [InlineData("vmamba_demo")]
    [InlineData("vim_demo")]
    public void Erf_is_a_normalized_map_centred_on_the_middle_of_the_image(string name)
    {
        manual_seed(0);
        using var data = SyntheticDataset.Create(trainCount: 16, testCount: 4, seed: 0);
        var model = ModelRegistry.Get(name).Create(10, 1, 28);

        var map = ReceptiveField.Compute(model, data.Test, new InputTransform(data.Mean, data.Std, 28, 1), count: 4);

        Assert.Equal(28, map.GetLength(0));
        Assert.Equal(28, map.GetLength(1));
        var values = map.Cast<double>().ToArray();
        Assert.All(values, v => Assert.InRange(v, 0, 1));
        Assert.Equal(1.0, values.Max(), 9);
        // The central quarter of the image holds more than its area's share (25%) of the contribution.
        Assert.True(ReceptiveField.CentralMass(map, 0.5) > 0.25, $"central mass {ReceptiveField.CentralMass(map, 0.5)}");
    }

    [Fact]
    public void Central_mass_of_uniform_and_point_maps()
    {
        var uniform = new double[8, 8];
        for (int r = 0; r < 8; r++) for (int c = 0; c < 8; c++) uniform[r, c] = 1;
        Assert.Equal(0.25, ReceptiveField.CentralMass(uniform, 0.5), 9);
        var point = new double[8, 8];
        point[4, 4] = 1;
        Assert.Equal(1.0, ReceptiveField.CentralMass(point, 0.5), 9);
    }
}

namespace SsmBridge.Cli.Training;

/// <summary>Everything <c>ssmbridge train</c> takes.</summary>
public sealed record TrainOptions
{
    public string Model { get; init; } = "vim_demo";
    /// <summary>Factory arguments set with --model-arg.</summary>
    public IReadOnlyDictionary<string, string> ModelArgs { get; init; } = new Dictionary<string, string>();
    public string Dataset { get; init; } = "fashion-mnist";
    public double Epochs { get; init; } = 2;
    /// <summary>Stop after this many optimizer steps (0: run all epochs).</summary>
    public long MaxSteps { get; init; }
    /// <summary>
    /// Wall-clock budget for the training steps in minutes (0: none). The step count is fixed after a short
    /// calibration so that the whole cosine schedule fits the budget: fewer steps on a slower machine.
    /// </summary>
    public double TimeLimit { get; init; }
    public int BatchSize { get; init; } = 32;
    public double Lr { get; init; } = 2e-3;
    public double WeightDecay { get; init; } = 0.05;
    /// <summary>Warm-up as a fraction of all steps.</summary>
    public double Warmup { get; init; } = 0.05;
    public double LabelSmoothing { get; init; } = 0.1;
    /// <summary>0: the factory's own size (28 for presets) or the data's.</summary>
    public long ImgSize { get; init; }
    public int Threads { get; init; }
    public int Seed { get; init; }
    public string Out { get; init; } = "runs/latest";
    /// <summary>Use only the first N train / test images (0: all).</summary>
    public long LimitTrain { get; init; }
    public long LimitTest { get; init; }
}

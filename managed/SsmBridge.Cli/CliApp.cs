using System.CommandLine;
using System.CommandLine.Parsing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using SsmBridge.Cli.Commands;
using SsmBridge.Cli.Training;

namespace SsmBridge.Cli;

/// <summary>What a command runs with: where results and messages go, logging, and the Ctrl-C token.</summary>
public sealed class CommandContext
{
    public required TextWriter Out { get; init; }
    public required TextWriter Error { get; init; }
    public required ILoggerFactory Logging { get; init; }
    public required CancellationToken Cancel { get; init; }
    /// <summary>Where training progress goes: stderr, or nowhere at verbosity quiet and minimal.</summary>
    public required TextWriter Progress { get; init; }
    /// <summary>Draw a live progress line (a terminal on stderr), else print progress every tenth of the run.</summary>
    public bool LiveProgress { get; init; }

    /// <summary>
    /// Writes out the queued log messages (the console logger prints from a background thread) and ends
    /// logging, so that the result lines printed next are the last lines of the run.
    /// </summary>
    public void FlushLog() => Logging.Dispose();
}

/// <summary>The commands and options of <c>ssmbridge</c>; a fresh set per parse.</summary>
public sealed class CliDefinition
{
    public readonly Option<string> Verbosity = new("--verbosity", "-v") {
        Description = "Log detail: quiet, minimal, normal, detailed or diagnostic (diagnostic also prints stack traces)",
        DefaultValueFactory = _ => "normal", Recursive = true,
    };

    // train
    public readonly Option<string> Model = new("--model", "-m") {
        Description = "A factory of SsmBridge.models (e.g. vim_demo, vmamba_demo, s4nd_demo, vim_tiny_patch16_224)", DefaultValueFactory = _ => "vim_demo",
    };
    public readonly Option<string[]> ModelArgs = new("--model-arg", "-a") {
        Description = "Set a factory argument, name=value (repeatable), e.g. -a embed_dim=64 -a depth=2", AllowMultipleArgumentsPerToken = false,
    };
    public readonly Option<string> Dataset = new("--dataset", "-d") {
        Description = "fashion-mnist, synthetic, or a folder with train-/t10k- images and labels as IDX files (raw or .gz)", DefaultValueFactory = _ => "fashion-mnist",
    };
    public readonly Option<double> Epochs = new("--epochs") { Description = "Passes over the train split (fractions allowed)", DefaultValueFactory = _ => 2 };
    public readonly Option<long> MaxSteps = new("--max-steps") { Description = "Stop after this many optimizer steps (0: no limit)", DefaultValueFactory = _ => 0 };
    public readonly Option<double> TimeLimit = new("--time-limit") {
        Description = "Minutes for the training steps (0: none): after a short calibration the step count is cut so the cosine schedule ends in time",
        DefaultValueFactory = _ => 0,
    };
    public readonly Option<int> BatchSize = new("--batch-size", "-b") { Description = "Images per step", DefaultValueFactory = _ => 32 };
    public readonly Option<double> Lr = new("--lr") { Description = "Peak learning rate of AdamW", DefaultValueFactory = _ => 2e-3 };
    public readonly Option<double> WeightDecay = new("--weight-decay") { Description = "AdamW decoupled weight decay (matrices and kernels only)", DefaultValueFactory = _ => 0.05 };
    public readonly Option<double> Warmup = new("--warmup") { Description = "Linear warm-up, as a fraction of all steps, before the cosine decay", DefaultValueFactory = _ => 0.05 };
    public readonly Option<double> LabelSmoothing = new("--label-smoothing") { Description = "Label smoothing of the cross-entropy", DefaultValueFactory = _ => 0.1 };
    public readonly Option<long> ImgSize = new("--img-size") { Description = "Input side in pixels (0: the preset's 28, a published factory's default, or the data's)", DefaultValueFactory = _ => 0 };
    public readonly Option<int> Threads = new("--threads", "-t") { Description = "CPU threads (0: libtorch's default)", DefaultValueFactory = _ => 0 };
    public readonly Option<int> Seed = new("--seed") { Description = "Random seed (initialization, shuffling, synthetic data)", DefaultValueFactory = _ => 0 };
    public readonly Option<string> Out = new("--out", "-o") { Description = "Folder for the checkpoint, curves PNG and report", DefaultValueFactory = _ => "runs/latest" };
    public readonly Option<long> LimitTrain = new("--limit-train") { Description = "Use only the first N train images (0: all)", DefaultValueFactory = _ => 0 };
    public readonly Option<long> LimitTest = new("--limit-test") { Description = "Use only the first N test images (0: all)", DefaultValueFactory = _ => 0 };

    // eval, erf, bench
    public readonly Option<string> CheckpointPath = new("--checkpoint", "-c") { Description = "A folder written by `ssmbridge train --out` (or a file in it)" };
    public readonly Option<string?> EvalDataset = new("--dataset", "-d") { Description = "Data set to evaluate on (default: the one it was trained on)" };
    public readonly Option<string?> ErfModel = new("--model", "-m") { Description = "A factory name (ERF at initialization); with --checkpoint the trained model is shown too" };
    public readonly Option<int> ErfImages = new("--images", "-n") { Description = "Test images to average over", DefaultValueFactory = _ => 32 };
    public readonly Option<string> ErfOut = new("--out", "-o") { Description = "PNG file to write", DefaultValueFactory = _ => "erf.png" };
    public readonly Option<int> BenchSteps = new("--steps") { Description = "Timed iterations (after 2 warm-up ones)", DefaultValueFactory = _ => 10 };
    public readonly Option<long> InChans = new("--in-chans") { Description = "Input channels (0: 1 for presets, 3 for published models)", DefaultValueFactory = _ => 0 };

    // bench --compare (issue 10) and its hidden per-point child
    public readonly Option<bool> Compare = new("--compare") {
        Description = "Compare Vim-Ti, VMamba-T, S4ND-ViT-Ti and DeiT-Ti (and Vim-Ti on reference ops) across image sizes, batch 1, a fresh process per point",
    };
    public readonly Option<bool> Quick = new("--quick") { Description = "--compare at sizes 32 and 64 with one timed step (a smoke test)" };
    public readonly Option<string?> Resolutions = new("--resolutions") { Description = "--compare at these image sizes, e.g. 224,384,512 (default 224,384)" };
    public readonly Option<string?> Plot = new("--plot") { Description = "--compare, and write throughput/memory-vs-resolution PNGs and sweep.csv into this folder" };
    public readonly Option<double> TimeCap = new("--time-cap") { Description = "Seconds of timed steps per point before stopping early (--compare)", DefaultValueFactory = _ => 60 };
    public readonly Option<string> BenchModelKey = new("--bench-model") { Description = "vim_tiny, vim_tiny_reference, vmamba_tiny, s4nd_vit_tiny, deit_tiny or deit_tiny_explicit", Required = true };
    public readonly Option<string> BenchModeName = new("--mode") { Description = "inference or training", DefaultValueFactory = _ => "inference" };
    public readonly Option<double> MemoryLimit = new("--memory-limit") { Description = "MiB of resident memory at which the point stops", DefaultValueFactory = _ => 20 * 1024 };

    public RootCommand Build(Func<ParseResult, Func<CommandContext, int>, int> runner)
    {
        NonNegative(Epochs); NonNegative(MaxSteps); NonNegative(TimeLimit); Positive(BatchSize); Positive(Lr); NonNegative(WeightDecay); NonNegative(ImgSize);
        NonNegative(Threads); NonNegative(LimitTrain); NonNegative(LimitTest); Positive(ErfImages); Positive(BenchSteps); NonNegative(InChans);
        Positive(TimeCap); Positive(MemoryLimit);
        Range(Warmup, 0, 1); Range(LabelSmoothing, 0, 1);
        BenchModeName.AcceptOnlyFromAmong("inference", "training");
        Verbosity.AcceptOnlyFromAmong("quiet", "minimal", "normal", "detailed", "diagnostic");

        var train = new Command("train", "Train a model (AdamW, warm-up + cosine, label smoothing) and write a checkpoint, curves and a report") {
            Model, ModelArgs, Dataset, Epochs, MaxSteps, TimeLimit, BatchSize, Lr, WeightDecay, Warmup, LabelSmoothing, ImgSize, Threads, Seed, Out, LimitTrain, LimitTest,
        };
        train.SetAction(r => runner(r, ctx => TrainCommand.Run(ctx, new TrainOptions {
            Model = r.GetValue(Model)!, Dataset = r.GetValue(Dataset)!, Epochs = r.GetValue(Epochs), MaxSteps = r.GetValue(MaxSteps), TimeLimit = r.GetValue(TimeLimit),
            BatchSize = r.GetValue(BatchSize), Lr = r.GetValue(Lr), WeightDecay = r.GetValue(WeightDecay), Warmup = r.GetValue(Warmup),
            LabelSmoothing = r.GetValue(LabelSmoothing), ImgSize = r.GetValue(ImgSize), Threads = r.GetValue(Threads), Seed = r.GetValue(Seed),
            ModelArgs = ModelRegistry.ParseArgs(r.GetValue(ModelArgs)), Out = r.GetValue(Out)!, LimitTrain = r.GetValue(LimitTrain), LimitTest = r.GetValue(LimitTest),
        })));

        CheckpointPath.Required = true;
        var eval = new Command("eval", "Load a checkpoint and report test accuracy and the confusion matrix") {
            CheckpointPath, EvalDataset, BatchSize, Threads, LimitTest,
        };
        eval.SetAction(r => runner(r, ctx => EvalCommand.Run(ctx, r.GetValue(CheckpointPath)!, r.GetValue(EvalDataset), r.GetValue(BatchSize),
                                                               r.GetValue(Threads), r.GetValue(LimitTest))));

        var erfCheckpoint = new Option<string?>("--checkpoint", "-c") { Description = CheckpointPath.Description };
        var erf = new Command("erf", "Effective receptive field heat map (gradient of the central output w.r.t. the input), before and after training") {
            ErfModel, erfCheckpoint, Dataset, ErfImages, ImgSize, Threads, Seed, ErfOut,
        };
        erf.SetAction(r => runner(r, ctx => ErfCommand.Run(ctx, r.GetValue(ErfModel), r.GetValue(erfCheckpoint), r.GetValue(Dataset)!,
                                                             r.GetValue(ErfImages), r.GetValue(ImgSize), r.GetValue(Threads), r.GetValue(Seed), r.GetValue(ErfOut)!)));

        var benchBatch = new Option<int>("--batch-size", "-b") { Description = "Images per step", DefaultValueFactory = _ => 32 };
        Positive(benchBatch);
        var bench = new Command("bench", "Time a model's inference forward and training step (images/s), or --compare Vim, VMamba, S4ND and DeiT across image sizes") {
            Model, ModelArgs, benchBatch, ImgSize, InChans, Threads, BenchSteps, Seed, Compare, Quick, Resolutions, Plot, TimeCap,
        };
        bench.Validators.Add(r => {
            if (!Comparing(r)) return;
            foreach (var single in new Option[] { Model, ModelArgs, benchBatch, ImgSize, InChans })
                if (r.GetResult(single) is { Implicit: false }) r.AddError($"{single.Name} times one model; --compare, --quick, --resolutions and --plot compare the fixed four");
            if (r.GetValue(Quick) && r.GetValue(Resolutions) is not null) r.AddError("--quick fixes the sizes; leave out --resolutions");
        });
        bench.SetAction(r => runner(r, ctx => Comparing(r.CommandResult)
            ? BenchCompareCommand.Run(ctx, r.GetValue(Quick) ? BenchCompareCommand.QuickResolutions
                                           : r.GetValue(Resolutions) is { } sizes ? BenchCompareCommand.ParseResolutions(sizes) : BenchCompareCommand.DefaultResolutions,
                                      r.GetResult(BenchSteps) is { Implicit: false } ? r.GetValue(BenchSteps) : r.GetValue(Quick) ? 1 : 3,
                                      r.GetValue(TimeCap), r.GetValue(Threads), r.GetValue(Plot))
            : BenchCommand.Run(ctx, r.GetValue(Model)!, ModelRegistry.ParseArgs(r.GetValue(ModelArgs)), r.GetValue(benchBatch), r.GetValue(ImgSize),
                               r.GetValue(InChans), r.GetValue(Threads), r.GetValue(BenchSteps), r.GetValue(Seed))));

        var benchPoint = new Command("bench-point", "One point of `bench --compare`, in a fresh process (internal)") {
            BenchModelKey, ImgSize, BenchModeName, BenchSteps, TimeCap, MemoryLimit, Threads,
        };
        benchPoint.Hidden = true;
        benchPoint.SetAction(r => runner(r, ctx => BenchPointCommand.Run(ctx, r.GetValue(BenchModelKey)!, r.GetValue(ImgSize), r.GetValue(BenchModeName)!,
                                                                         r.GetValue(BenchSteps), r.GetValue(TimeCap), r.GetValue(MemoryLimit), r.GetValue(Threads))));

        var info = new Command("info", "Versions, CPU code path, threads, CUDA availability and the models on offer");
        info.SetAction(r => runner(r, InfoCommand.Run));

        return new RootCommand("ssmbridge: train, evaluate, benchmark and inspect state-space vision models (Vim, VMamba, S4ND) on the CPU") {
            Verbosity, train, eval, bench, benchPoint, erf, info,
        };
    }

    // Any of --compare, --quick, --resolutions, --plot asks for the comparison.
    private bool Comparing(CommandResult r) =>
        r.GetValue(Compare) || r.GetValue(Quick) || r.GetValue(Resolutions) is not null || r.GetValue(Plot) is not null;

    // Validators run after conversion; a value that did not convert already has its own parse error.
    private static bool TryValue<T>(OptionResult r, out T value)
    {
        value = default!;
        if (r.Errors.Any()) return false;
        try {
            value = r.GetValueOrDefault<T>();
            return true;
        } catch (InvalidOperationException) {
            return false;
        }
    }

    private static void NonNegative<T>(Option<T> o) where T : IComparable<T> =>
        o.Validators.Add(r => { if (TryValue<T>(r, out var v) && v.CompareTo(default!) < 0) r.AddError($"{o.Name} must not be negative, got {v}"); });

    private static void Positive<T>(Option<T> o) where T : IComparable<T> =>
        o.Validators.Add(r => { if (TryValue<T>(r, out var v) && v.CompareTo(default!) <= 0) r.AddError($"{o.Name} must be positive, got {v}"); });

    private static void Range(Option<double> o, double min, double max) =>
        o.Validators.Add(r => {
            if (TryValue<double>(r, out var v) && (v < min || v > max)) r.AddError($"{o.Name} must lie in [{min}, {max}], got {v}");
        });
}

/// <summary>
/// Runs the <c>ssmbridge</c> command line (System.CommandLine). <see cref="Run"/> never lets an exception out:
/// bad input is one line on the error writer and a non-zero exit code.
/// </summary>
public static class CliApp
{
    /// <summary>Runs the command line; returns the exit code. Ctrl-C (<paramref name="cancel"/>) stops training cleanly.</summary>
    public static int Run(string[] args, TextWriter? output = null, TextWriter? error = null, CancellationToken cancel = default)
    {
        output ??= Console.Out;
        error ??= Console.Error;
        bool diagnostic = false;
        var cli = new CliDefinition();
        var root = cli.Build((parse, body) => {
            var verbosity = parse.GetValue(cli.Verbosity) ?? "normal";
            diagnostic = verbosity == "diagnostic";
            using var logging = CreateLogging(verbosity, error);
            var context = new CommandContext {
                Out = output, Error = error, Logging = logging, Cancel = cancel,
                Progress = verbosity is "quiet" or "minimal" ? TextWriter.Null : error,
                LiveProgress = ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected && verbosity != "quiet",
            };
            return body(context);
        });
        try {
            var parse = root.Parse(args);
            if (parse.Errors.Count > 0) {
                var command = parse.CommandResult.Command;
                var name = command is RootCommand ? "ssmbridge" : $"ssmbridge {command.Name}";
                var messages = parse.Errors.Select(e => e.Message.TrimEnd('.')).Distinct();
                error.WriteLine($"ssmbridge: error: {OneLine(string.Join("; ", messages))} (see `{name} --help`)");
                return ExitCodes.UsageError;
            }
            return parse.Invoke(new InvocationConfiguration {
                Output = output, Error = error, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null,
            });
        } catch (CliException e) {
            return Report(e, error, diagnostic);
        } catch (OperationCanceledException) {
            error.WriteLine("ssmbridge: interrupted");
            return ExitCodes.Interrupted;
        } catch (Exception e) {
            var inner = e is System.Reflection.TargetInvocationException { InnerException: { } i } ? i : e;
            error.WriteLine($"ssmbridge: error: {inner.GetType().Name}: {OneLine(inner.Message)}" + (diagnostic ? "" : " (run with -v diagnostic for details)"));
            if (diagnostic) error.WriteLine(inner);
            return ExitCodes.Failure;
        }
    }

    /// <summary>Prints a <see cref="CliException"/> as the one error line (plus details when diagnostic); returns its exit code.</summary>
    internal static int Report(CliException e, TextWriter error, bool diagnostic = false)
    {
        error.WriteLine($"ssmbridge: error: {e.Message}");
        if (diagnostic) error.WriteLine(e.InnerException ?? e);
        return e.ExitCode;
    }

    internal static string OneLine(string s) => string.Join(' ', s.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static ILoggerFactory CreateLogging(string verbosity, TextWriter error)
    {
        var level = verbosity switch {
            "quiet" => LogLevel.None,
            "minimal" => LogLevel.Warning,
            "detailed" => LogLevel.Debug,
            "diagnostic" => LogLevel.Trace,
            _ => LogLevel.Information,
        };
        return LoggerFactory.Create(b => b
            .SetMinimumLevel(level)
            .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; o.IncludeScopes = false; })
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
    }

}

using Microsoft.Extensions.Logging;
using SsmBridge.Cli.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SsmBridge.Cli.Training;

/// <summary>A point of the training curves.</summary>
public sealed record CurvePoint(long Step, double Epoch, double Loss, double Accuracy);

/// <summary>What a training run did.</summary>
public sealed record TrainResult(
    long Steps, long TotalSteps, double Epochs, double Seconds, double ImagesPerSecond, bool Interrupted,
    IReadOnlyList<CurvePoint> Train, List<CurvePoint> Test, IReadOnlyList<double> StepLosses);

/// <summary>
/// Supervised image classification: AdamW (decoupled weight decay on matrices and convolution kernels only,
/// not on norms, biases, position embeddings or class tokens), linear warm-up then cosine decay per step,
/// cross-entropy with label smoothing, gradient-norm clipping at 1, a fresh shuffle each epoch, the test
/// split evaluated after every epoch but the last; under <see cref="TrainOptions.TimeLimit"/> the step count is
/// cut after a short calibration so that the whole schedule fits. Stops between two steps when <c>cancel</c> fires.
/// </summary>
public sealed class Trainer
{
    private readonly ILogger _log;
    private readonly TextWriter _progressOut;
    private readonly bool _live;

    public Trainer(ILogger log, TextWriter progressOut, bool liveProgress)
    {
        _log = log;
        _progressOut = progressOut;
        _live = liveProgress;
    }

    public TrainResult Run(nn.Module<Tensor, Tensor> model, ImageDataset data, InputTransform transform, TrainOptions o,
                           CancellationToken cancel)
    {
        long perEpoch = (data.Train.Count + o.BatchSize - 1) / o.BatchSize;
        long total = (long)Math.Ceiling(o.Epochs * perEpoch);
        if (o.MaxSteps > 0) total = Math.Min(total, o.MaxSteps);
        total = Math.Max(total, 1);
        var schedule = new CosineSchedule(o.Lr, Math.Max(1, (long)(o.Warmup * total)), total, o.Lr * 0.01);
        var optimizer = CreateOptimizer(model, o);
        var parameters = model.parameters().ToArray();
        var generator = new Generator((ulong)o.Seed + 1);

        var trainCurve = new List<CurvePoint>();
        var testCurve = new List<CurvePoint>();
        var stepLosses = new List<double>();
        var progress = new Progress(_progressOut, _live, total);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        long step = 0, images = 0;
        double windowLoss = 0, windowCorrect = 0, windowCount = 0;
        double runLoss = double.NaN, runAcc = 0;
        long pointEvery = Math.Max(1, total / 200);
        bool interrupted = false;
        // Under a time limit: time the first steps, then fix the step count so the schedule ends in time.
        long calibrationSteps = o.TimeLimit > 0 ? Math.Clamp(total / 20, 10, 50) : 0;
        var calibrationStart = TimeSpan.Zero;
        _log.LogInformation("training {Steps} steps ({PerEpoch} per epoch, batch {Batch}), peak lr {Lr}, warm-up {Warmup} steps",
                            total, perEpoch, o.BatchSize, o.Lr, schedule.WarmupSteps);

        for (long epoch = 0; step < total && !interrupted; epoch++) {
            model.train();
            using var order = randperm(data.Train.Count, generator: generator);
            for (long b = 0; b < perEpoch && step < total; b++) {
                if (cancel.IsCancellationRequested) { interrupted = true; break; }
                using var noGc = NoGcRegion.Enter();
                using var scope = NewDisposeScope();
                long start = b * o.BatchSize, n = Math.Min(o.BatchSize, data.Train.Count - start);
                var index = order.narrow(0, start, n);
                var x = transform.Apply(data.Train.Images.index_select(0, index));
                var y = data.Train.Labels.index_select(0, index);

                double lr = schedule.At(step);
                foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
                optimizer.zero_grad();
                var logits = model.forward(x);
                var loss = nn.functional.cross_entropy(logits, y, label_smoothing: o.LabelSmoothing);
                loss.backward();
                nn.utils.clip_grad_norm_(parameters, 1.0);
                optimizer.step();

                double l = loss.item<float>();
                if (!double.IsFinite(l)) throw new CliException($"training diverged at step {step + 1} (loss {l}); try a lower --lr", ExitCodes.Failure);
                long correct = logits.argmax(1).eq(y).sum().item<long>();
                step++;
                images += n;
                if (step == 1) calibrationStart = watch.Elapsed;
                if (calibrationSteps > 0 && step == calibrationSteps + 1 && step < total) {
                    double perStep = (watch.Elapsed - calibrationStart).TotalSeconds / calibrationSteps;
                    long fit = step + (long)((o.TimeLimit * 60 - watch.Elapsed.TotalSeconds) / perStep);
                    if (fit < total) {
                        total = Math.Max(step + 1, fit);
                        schedule = schedule with { TotalSteps = total, WarmupSteps = Math.Min(schedule.WarmupSteps, Math.Max(1, (long)(o.Warmup * total))) };
                        progress.Total = total;
                        pointEvery = Math.Max(1, total / 200);
                        _log.LogInformation("time limit {Minutes} min at {Rate:0} images/s: training {Steps} steps ({Epochs:0.00} epochs)",
                                            o.TimeLimit, o.BatchSize / perStep, total, (double)total * o.BatchSize / data.Train.Count);
                    }
                }
                stepLosses.Add(l);
                windowLoss += l * n; windowCorrect += correct; windowCount += n;
                runLoss = double.IsNaN(runLoss) ? l : 0.95 * runLoss + 0.05 * l;
                runAcc = step == 1 ? (double)correct / n : 0.95 * runAcc + 0.05 * correct / n;
                double epochs = (double)images / data.Train.Count;
                if (step % pointEvery == 0 || step == total) {
                    trainCurve.Add(new CurvePoint(step, epochs, windowLoss / windowCount, windowCorrect / windowCount));
                    windowLoss = windowCorrect = windowCount = 0;
                }
                progress.Update(step, epochs, runLoss, runAcc, images / watch.Elapsed.TotalSeconds, lr);
            }
            progress.Finish();
            if (interrupted) break;
            // After every epoch but the last: the caller evaluates the final weights (from the saved checkpoint).
            if (step % perEpoch == 0 && step < total && data.Test.Count > 0) {
                Evaluation eval;
                try {
                    eval = Evaluator.Run(model, data.Test, transform, data.NumClasses, o.BatchSize * 2, cancel);
                } catch (OperationCanceledException) {
                    interrupted = true;
                    break;
                }
                double epochs = (double)images / data.Train.Count;
                testCurve.Add(new CurvePoint(step, epochs, eval.Loss, eval.Accuracy));
                _log.LogInformation("epoch {Epoch:0.00}: test accuracy {Accuracy:P2}, test loss {Loss:0.0000} ({Count} images, {Seconds:0.0} s)",
                                    epochs, eval.Accuracy, eval.Loss, eval.Count, eval.Seconds);
            }
        }
        if (interrupted) _log.LogWarning("interrupted after {Step} of {Total} steps", step, total);
        var seconds = watch.Elapsed.TotalSeconds;
        return new TrainResult(step, total, (double)images / data.Train.Count, seconds, images / Math.Max(seconds, 1e-9),
                               interrupted, trainCurve, testCurve, stepLosses);
    }

    // Decoupled weight decay on weights of rank >= 2 except position embeddings and class tokens
    // (the usual ViT/Vim recipe); norms, biases, A_log and D have none.
    private static AdamW CreateOptimizer(nn.Module<Tensor, Tensor> model, TrainOptions o)
    {
        var decay = new List<Parameter>();
        var noDecay = new List<Parameter>();
        foreach (var (name, p) in model.named_parameters()) {
            if (!p.requires_grad) continue;
            bool exempt = p.dim() < 2 || name.EndsWith("pos_embed", StringComparison.Ordinal) || name.EndsWith("cls_token", StringComparison.Ordinal)
                          || name.Contains("A_log", StringComparison.Ordinal) || name.EndsWith(".D", StringComparison.Ordinal);
            (exempt ? noDecay : decay).Add(p);
        }
        return optim.AdamW(new[] {
            new AdamW.ParamGroup(decay, lr: o.Lr, weight_decay: o.WeightDecay),
            new AdamW.ParamGroup(noDecay, lr: o.Lr, weight_decay: 0),
        }, lr: o.Lr, beta1: 0.9, beta2: 0.999);
    }
}

using SsmBridge.Cli.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge.Cli.Training;

/// <summary>Test-set accuracy, mean loss and the confusion matrix (rows: true class, columns: predicted).</summary>
public sealed record Evaluation(double Accuracy, double Loss, long Count, long[,] Confusion, double Seconds)
{
    public double ImagesPerSecond => Count / Math.Max(Seconds, 1e-9);
}

public static class Evaluator
{
    public static Evaluation Run(nn.Module<Tensor, Tensor> model, ImageSplit split, InputTransform transform, long numClasses,
                                 int batchSize, CancellationToken cancel = default)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        model.eval();
        var confusion = zeros(new[] { numClasses * numClasses }, ScalarType.Int64);
        double lossSum = 0;
        long seen = 0;
        using (no_grad()) {
            for (long start = 0; start < split.Count; start += batchSize) {
                cancel.ThrowIfCancellationRequested();
                using var noGc = NoGcRegion.Enter();
                using var scope = NewDisposeScope();
                long n = Math.Min(batchSize, split.Count - start);
                var labels = split.Labels.narrow(0, start, n);
                var logits = model.forward(transform.Apply(split.Images.narrow(0, start, n)));
                lossSum += nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum).item<float>();
                var predicted = logits.argmax(1);
                confusion.index_add_(0, labels * numClasses + predicted, ones_like(labels), 1);
                seen += n;
            }
        }
        var counts = confusion.data<long>().ToArray();
        confusion.Dispose();
        var matrix = new long[numClasses, numClasses];
        long correct = 0;
        for (long t = 0; t < numClasses; t++)
        for (long p = 0; p < numClasses; p++) {
            matrix[t, p] = counts[t * numClasses + p];
            if (t == p) correct += matrix[t, p];
        }
        return new Evaluation(seen == 0 ? 0 : (double)correct / seen, seen == 0 ? 0 : lossSum / seen, seen, matrix, watch.Elapsed.TotalSeconds);
    }
}

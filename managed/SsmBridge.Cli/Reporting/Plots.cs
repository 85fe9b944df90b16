using ScottPlot;
using SsmBridge.Cli.Training;

namespace SsmBridge.Cli.Reporting;

/// <summary>PNG figures: training curves and effective-receptive-field heat maps (ScottPlot).</summary>
public static class Plots
{
    /// <summary>Train loss (left axis), train and test accuracy in % (right axis) against epochs.</summary>
    public static void TrainingCurves(string path, string title, TrainResult result)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel("train loss");
        if (result.Train.Count > 0) {
            var loss = plot.Add.Scatter(result.Train.Select(p => p.Epoch).ToArray(), result.Train.Select(p => p.Loss).ToArray());
            loss.LegendText = "train loss";
            loss.MarkerSize = 0;
            loss.LineWidth = 2;
            var acc = plot.Add.Scatter(result.Train.Select(p => p.Epoch).ToArray(), result.Train.Select(p => 100 * p.Accuracy).ToArray());
            acc.LegendText = "train accuracy %";
            acc.MarkerSize = 0;
            acc.Axes.YAxis = plot.Axes.Right;
        }
        if (result.Test.Count > 0) {
            var test = plot.Add.Scatter(result.Test.Select(p => p.Epoch).ToArray(), result.Test.Select(p => 100 * p.Accuracy).ToArray());
            test.LegendText = "test accuracy %";
            test.MarkerSize = 9;
            test.LineWidth = 2;
            test.Axes.YAxis = plot.Axes.Right;
        }
        plot.Axes.Right.Label.Text = "accuracy %";
        plot.ShowLegend(Alignment.MiddleRight);
        plot.SavePng(path, 900, 500);
    }

    /// <summary>Heat maps side by side (values in [0, 1], axes in pixels), one titled panel each.</summary>
    public static void Heatmaps(string path, IReadOnlyList<(string Title, double[,] Values)> maps)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(maps.Count);
        for (int i = 0; i < maps.Count; i++) {
            var plot = multiplot.GetPlot(i);
            var heat = plot.Add.Heatmap(maps[i].Values);
            heat.Colormap = new ScottPlot.Colormaps.Viridis();
            plot.Add.ColorBar(heat);
            plot.Title(maps[i].Title);
            plot.Axes.SquareUnits();
        }
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        multiplot.SavePng(path, 460 * maps.Count, 440);
    }
}

namespace SsmBridge.Cli.Training;

/// <summary>
/// Learning rate per optimizer step: linear warm-up from 0 to <paramref name="PeakLr"/> over
/// <paramref name="WarmupSteps"/>, then a half cosine down to <paramref name="MinLr"/> at <paramref name="TotalSteps"/>.
/// </summary>
public sealed record CosineSchedule(double PeakLr, long WarmupSteps, long TotalSteps, double MinLr)
{
    public double At(long step)
    {
        if (step < WarmupSteps) return PeakLr * (step + 1) / WarmupSteps;
        long decay = Math.Max(1, TotalSteps - WarmupSteps);
        double progress = Math.Clamp((double)(step - WarmupSteps) / decay, 0, 1);
        return MinLr + 0.5 * (PeakLr - MinLr) * (1 + Math.Cos(Math.PI * progress));
    }
}

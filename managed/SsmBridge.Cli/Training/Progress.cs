using System.Text;

namespace SsmBridge.Cli.Training;

/// <summary>
/// A live one-line progress bar on a terminal (redrawn in place with loss, accuracy, images/s and ETA);
/// when the output is a file or a pipe, the same line is printed every tenth of the run instead.
/// </summary>
public sealed class Progress
{
    private readonly TextWriter _out;
    private readonly bool _live;
    private long _total;
    private readonly System.Diagnostics.Stopwatch _watch = System.Diagnostics.Stopwatch.StartNew();
    private TimeSpan _lastDraw = TimeSpan.Zero;
    private long _nextMilestone;
    private int _lastWidth;

    public Progress(TextWriter output, bool live, long totalSteps)
    {
        _out = output;
        _live = live;
        _total = Math.Max(1, totalSteps);
        _nextMilestone = Math.Max(1, _total / 10);
    }

    /// <summary>The number of steps the run will take (it may shrink once, under a time limit).</summary>
    public long Total
    {
        get => _total;
        set {
            _total = Math.Max(1, value);
            _nextMilestone = Math.Min(_nextMilestone, Math.Max(1, _total / 10));
        }
    }

    public void Update(long step, double epoch, double loss, double accuracy, double imagesPerSecond, double lr)
    {
        var elapsed = _watch.Elapsed;
        var eta = step > 0 ? TimeSpan.FromSeconds(elapsed.TotalSeconds / step * (_total - step)) : TimeSpan.Zero;
        string Line(bool bar)
        {
            var sb = new StringBuilder();
            if (bar) {
                int width = 24, filled = (int)(width * step / _total);
                sb.Append('[').Append('#', filled).Append('.', width - filled).Append("] ");
            }
            sb.Append($"step {step}/{_total} epoch {epoch:0.00} loss {loss:0.0000} acc {accuracy:P1} {imagesPerSecond:0} img/s lr {lr:0.00e+0} ");
            sb.Append($"elapsed {elapsed:mm\\:ss} eta {eta:mm\\:ss}");
            return sb.ToString();
        }
        if (_live) {
            if (step < _total && (elapsed - _lastDraw).TotalMilliseconds < 200) return;
            _lastDraw = elapsed;
            var line = Line(bar: true);
            _out.Write('\r' + line + new string(' ', Math.Max(0, _lastWidth - line.Length)));
            _lastWidth = line.Length;
            _out.Flush();
        } else if (step >= _nextMilestone || step == _total) {
            _out.WriteLine(Line(bar: false));
            _nextMilestone += Math.Max(1, _total / 10);
        }
    }

    /// <summary>Ends the live line so that the next output starts on a fresh one.</summary>
    public void Finish()
    {
        if (_live && _lastWidth > 0) _out.WriteLine();
        _lastWidth = 0;
    }
}

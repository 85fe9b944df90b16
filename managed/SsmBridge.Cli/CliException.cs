namespace SsmBridge.Cli;

/// <summary>
/// A problem with what the user asked for (bad option, missing or corrupt file): printed as one line,
/// without a stack trace, and turned into a non-zero exit code.
/// </summary>
public sealed class CliException : Exception
{
    public CliException(string message, int exitCode = ExitCodes.UsageError, Exception? inner = null) : base(message, inner) =>
        ExitCode = exitCode;

    public int ExitCode { get; }
}

/// <summary>The exit codes of <c>ssmbridge</c>.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>An unexpected failure (a bug, or the machine ran out of something).</summary>
    public const int Failure = 1;
    /// <summary>Bad command line or input data.</summary>
    public const int UsageError = 2;
    /// <summary>Stopped by Ctrl-C (128 + SIGINT, as shells report it).</summary>
    public const int Interrupted = 130;
}

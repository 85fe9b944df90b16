#nullable enable
namespace SsmBridge.Interop;

/// <summary>A native call that failed for a reason other than a bad argument.</summary>
public sealed class NativeException : Exception
{
    /// <summary>Wraps a failed status and the native library's message for it.</summary>
    public NativeException(Status status, string message) : base(message) => Status = status;

    /// <summary>The status the native call returned.</summary>
    public Status Status { get; }
}

/// <summary>
/// Turns a failed <see cref="Status"/> into an exception carrying <c>ssmb_last_error()</c>. Called by the
/// SWIG-generated wrappers after every native call (see the ssmb_status typemap in ssmbridge.i).
/// </summary>
internal static class NativeErrors
{
    internal static void ThrowIfFailed(Status status)
    {
        if (status == Status.Ok) return;
        var message = Native.LastError();
        if (status == Status.InvalidArgument)
            throw new ArgumentException(message, ParameterName(message));
        throw new NativeException(status, message);
    }

    // Native messages start with the argument's name: "groups: expected a divisor of dim (4), got 3".
    private static string? ParameterName(string message)
    {
        var colon = message.IndexOf(':');
        return colon > 0 && !message[..colon].Contains(' ') ? message[..colon] : null;
    }
}

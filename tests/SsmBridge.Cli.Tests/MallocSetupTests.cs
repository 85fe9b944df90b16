using System.Diagnostics;
using SsmBridge.Cli;
using SsmBridge.Cli.Benchmarking;

namespace SsmBridge.Cli.Tests;

/// <summary>SSMB_MALLOC: what the ssmbridge process does with glibc's malloc before anything else runs.</summary>
public sealed class MallocSetupTests : IDisposable
{
    public void Dispose() => MallocSetup.Reset();

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("retain")]
    [InlineData(" Retain ")]
    public void Unset_or_retain_retains_freed_memory(string? value)
    {
        int calls = 0;
        var description = MallocSetup.Apply(value, () => { calls++; return true; });
        Assert.Equal(1, calls);
        Assert.StartsWith("freed memory retained for reuse", description);
        Assert.Contains("SSMB_MALLOC=default", description);
        Assert.Equal(description, MallocSetup.Description);
    }

    [Fact]
    public void Default_keeps_glibc_settings_without_calling_anything()
    {
        int calls = 0;
        var description = MallocSetup.Apply("default", () => { calls++; return true; });
        Assert.Equal(0, calls);
        Assert.Equal("the C library's defaults (SSMB_MALLOC=default)", description);
    }

    [Fact]
    public void Another_c_library_is_reported_as_unchanged()
    {
        Assert.Equal("glibc's settings unchanged: the C library is not glibc", MallocSetup.Apply(null, () => false));
    }

    [Fact]
    public void An_unknown_value_is_a_usage_error_that_changes_nothing()
    {
        int calls = 0;
        var e = Assert.Throws<CliException>(() => MallocSetup.Apply("jemalloc", () => { calls++; return true; }));
        Assert.Equal(0, calls);
        Assert.Equal(ExitCodes.UsageError, e.ExitCode);
        Assert.Contains("SSMB_MALLOC=jemalloc", e.Message);
        Assert.Contains("\"retain\"", e.Message);
        Assert.Contains("\"default\"", e.Message);
        Assert.StartsWith("not set up", MallocSetup.Description);
        // A value with a line break still makes one error line.
        var multiLine = Assert.Throws<CliException>(() => MallocSetup.Apply("a\nb", () => true));
        Assert.DoesNotContain('\n', multiLine.Message);
        Assert.Contains("SSMB_MALLOC=a b:", multiLine.Message);
    }

    // The command's entry point, in a child process: it applies the variable before anything else, and info
    // reports what it did.
    [Theory]
    [InlineData(null, 0, "malloc           freed memory retained for reuse (glibc")]
    [InlineData("default", 0, "malloc           the C library's defaults (SSMB_MALLOC=default)")]
    [InlineData("bogus", ExitCodes.UsageError, "ssmbridge: error: SSMB_MALLOC=bogus: expected \"retain\"")]
    public async Task The_ssmbridge_process_applies_the_variable_first(string? value, int expectedExit, string expected)
    {
        var start = PointProcess.StartInfo("info");
        start.Environment.Remove(MallocSetup.Variable);
        if (value is not null) start.Environment[MallocSetup.Variable] = value;
        using var process = Process.Start(start)!;
        var outputRead = process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        var output = await outputRead;
        await process.WaitForExitAsync();
        Assert.Equal(expectedExit, process.ExitCode);
        var text = expectedExit == 0 ? output : error;
        if (expectedExit == 0 && !OperatingSystem.IsLinux())
            expected = "malloc           " + (value is null ? "glibc's settings unchanged" : "the C library's defaults");
        Assert.Contains(expected, text);
        if (expectedExit != 0) Cli.AssertOneLineError(error, "SSMB_MALLOC=bogus");
    }
}

namespace SsmBridge.Tests;

/// <summary>
/// <see cref="Runtime.RetainFreedMemory"/> applies glibc's malloc settings where the C library is glibc (the
/// Linux test machines) and changes nothing elsewhere. Its effect on page faults depends on the whole process's
/// allocation history, so it is measured in a fresh process by `./build.sh bench scan-loop --retain`
/// (bench/RESULTS.md), not here.
/// </summary>
[Collection(SerialCollection.Name)]
public class RetainFreedMemoryTests
{
    [Fact]
    public void AppliesOnGlibcAndIsIdempotent()
    {
        bool glibc = OperatingSystem.IsLinux() && File.Exists("/proc/self/maps") &&
                     File.ReadAllText("/proc/self/maps").Contains("libc.so.6");
        Assert.Equal(glibc, Runtime.RetainFreedMemory());
        Assert.Equal(glibc, Runtime.RetainFreedMemory());
    }
}

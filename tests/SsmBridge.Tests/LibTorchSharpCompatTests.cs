#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using TorchSharp;
using Xunit;

namespace SsmBridge.Tests;

/// <summary>
/// Checks managed/build/SsmBridge.TorchSharpCompat.targets: on Linux hosts whose libstdc++ lacks
/// GLIBCXX_3.4.32 (e.g. Debian 12), the build must put a copy of libLibTorchSharp.so whose
/// GLIBCXX_3.4.32 requirement is weak into the output, and that copy (not the NuGet-cache file)
/// must be the one the process loads.
/// </summary>
public class LibTorchSharpCompatTests
{
    internal const string Version = "GLIBCXX_3.4.32";

    [Fact]
    public void TorchOperationRuns()
    {
        using var t = torch.randn(3, 3);
        using var s = t.sum();
        float sum = s.item<float>();
        Assert.True(float.IsFinite(sum), $"sum of randn(3,3) should be finite, got {sum}");
    }

    [LinuxWithoutGlibcxx332Fact]
    public void LoadedLibTorchSharpIsThePatchedCopy()
    {
        using (var t = torch.ones(2, 2)) Assert.Equal(4f, t.sum().item<float>());   // forces the native load

        var loaded = ElfVersions.MappedFiles().Where(p => Path.GetFileName(p) == "libLibTorchSharp.so").Distinct().ToList();
        string path = Assert.Single(loaded);

        // It is the app-local copy the build wrote, not the file in the NuGet global packages folder.
        Assert.StartsWith(Path.GetFullPath(AppContext.BaseDirectory), path);
        Assert.False(path.StartsWith(ElfVersions.NuGetPackagesRoot(), StringComparison.Ordinal), $"{path} is the NuGet-cache file");

        var entry = Assert.Single(ElfVersions.ReadVersionNeeds(path), n => n.Name == Version);
        Assert.Equal("libstdc++.so.6", entry.File);
        Assert.True((entry.Flags & ElfVersions.VER_FLG_WEAK) != 0, $"{Version} requirement in {path} is not weak (flags 0x{entry.Flags:x})");
    }

    [LinuxWithoutGlibcxx332Fact]
    public void NuGetCacheFileIsNotModified()
    {
        string version = typeof(torch).Assembly.GetName().Version!.ToString(3);
        string cached = Path.Combine(ElfVersions.NuGetPackagesRoot(), "torchsharp", version, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        if (!File.Exists(cached)) return;   // packages restored elsewhere (e.g. a fallback folder); nothing to check here

        var entry = Assert.Single(ElfVersions.ReadVersionNeeds(cached), n => n.Name == Version);
        Assert.True((entry.Flags & ElfVersions.VER_FLG_WEAK) == 0, $"{cached} was modified in place");
    }
}

/// <summary>Skips unless running on Linux with a libstdc++ that does not define GLIBCXX_3.4.32.</summary>
public sealed class LinuxWithoutGlibcxx332FactAttribute : FactAttribute
{
    public LinuxWithoutGlibcxx332FactAttribute()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
            Skip = "Linux only";
        else if (ElfVersions.LibStdCxx() is { } lib && ElfVersions.ReadVersionDefs(lib).Contains(LibTorchSharpCompatTests.Version))
            Skip = $"{lib} provides {LibTorchSharpCompatTests.Version}; the build leaves libLibTorchSharp.so unpatched";
    }
}

/// <summary>Minimal ELF64 little-endian reader for symbol-version sections (what `readelf -V` shows).</summary>
internal static class ElfVersions
{
    public const ushort VER_FLG_WEAK = 0x2;
    const uint SHT_GNU_verdef = 0x6ffffffd, SHT_GNU_verneed = 0x6ffffffe;

    public record struct VersionNeed(string File, string Name, ushort Flags);

    /// <summary>Paths of the files mapped into this process (the last column of /proc/self/maps).</summary>
    public static IEnumerable<string> MappedFiles() =>
        File.ReadAllLines("/proc/self/maps").Select(l => l.IndexOf('/') is var i and >= 0 ? l[i..].Trim() : null)
            .OfType<string>();

    public static string NuGetPackagesRoot()
    {
        string root = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } env
            ? env
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return Path.GetFullPath(root).TrimEnd('/') + "/";
    }

    /// <summary>The libstdc++ this process uses (coreclr itself links it), else the usual system locations.</summary>
    public static string? LibStdCxx() =>
        MappedFiles().FirstOrDefault(p => Path.GetFileName(p).StartsWith("libstdc++.so.6", StringComparison.Ordinal))
        ?? new[] { "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib64", "/usr/lib64", "/usr/lib" }
            .Select(d => Path.Combine(d, "libstdc++.so.6")).FirstOrDefault(File.Exists);

    /// <summary>Version names defined in .gnu.version_d (the first Verdaux of each Verdef).</summary>
    public static HashSet<string> ReadVersionDefs(string path)
    {
        byte[] b = File.ReadAllBytes(path);
        var names = new HashSet<string>();
        if (!FindSection(b, SHT_GNU_verdef, out long vd, out long strtab, out int count)) return names;
        for (int i = 0; i < count; i++)
        {
            // Elf64_Verdef: vd_version u16, vd_flags u16, vd_ndx u16, vd_cnt u16, vd_hash u32, vd_aux u32, vd_next u32
            long vda = vd + U32(b, vd + 12);          // vd_aux
            names.Add(Str(b, strtab + U32(b, vda)));   // Elf64_Verdaux: vda_name u32, vda_next u32
            uint next = U32(b, vd + 16);
            if (next == 0) break;
            vd += next;
        }
        return names;
    }

    /// <summary>All Vernaux entries of .gnu.version_r, with the library (Verneed vn_file) they belong to.</summary>
    public static List<VersionNeed> ReadVersionNeeds(string path)
    {
        byte[] b = File.ReadAllBytes(path);
        var needs = new List<VersionNeed>();
        if (!FindSection(b, SHT_GNU_verneed, out long vn, out long strtab, out int count)) return needs;
        for (int i = 0; i < count; i++)
        {
            // Elf64_Verneed: vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32
            string file = Str(b, strtab + U32(b, vn + 4));
            long vna = vn + U32(b, vn + 8);
            for (int j = 0; j < U16(b, vn + 2); j++)
            {
                // Elf64_Vernaux: vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32
                needs.Add(new VersionNeed(file, Str(b, strtab + U32(b, vna + 8)), U16(b, vna + 4)));
                vna += U32(b, vna + 12);
            }
            uint next = U32(b, vn + 12);
            if (next == 0) break;
            vn += next;
        }
        return needs;
    }

    static bool FindSection(byte[] b, uint type, out long offset, out long strtab, out int count)
    {
        if (b.Length < 64 || b[0] != 0x7f || b[1] != 'E' || b[2] != 'L' || b[3] != 'F' || b[4] != 2 || b[5] != 1)
            throw new InvalidDataException("not a little-endian ELF64 file");
        long shoff = (long)U64(b, 0x28);
        int shentsize = U16(b, 0x3A), shnum = U16(b, 0x3C);
        for (int i = 0; i < shnum; i++)
        {
            long sh = shoff + (long)i * shentsize;
            if (U32(b, sh + 4) != type) continue;
            offset = (long)U64(b, sh + 0x18);                                         // sh_offset
            count = (int)U32(b, sh + 0x2C);                                           // sh_info: number of entries
            strtab = (long)U64(b, shoff + (long)U32(b, sh + 0x28) * shentsize + 0x18); // sh_link -> string table's sh_offset
            return true;
        }
        offset = strtab = 0; count = 0;
        return false;
    }

    static ushort U16(byte[] b, long o) => (ushort)(b[o] | b[o + 1] << 8);
    static uint U32(byte[] b, long o) => (uint)(U16(b, o) | U16(b, o + 2) << 16);
    static ulong U64(byte[] b, long o) => U32(b, o) | (ulong)U32(b, o + 4) << 32;
    static string Str(byte[] b, long o) { long e = o; while (b[e] != 0) e++; return Encoding.ASCII.GetString(b, (int)o, (int)(e - o)); }
}

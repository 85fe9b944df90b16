using System.IO.Compression;
using SsmBridge.Cli.Data;

namespace SsmBridge.Cli.Tests;

public class IdxReaderTests
{
    [Theory]
    [InlineData("")]
    [InlineData(".gz")]
    public void Round_trips_images_raw_and_gzipped(string ext)
    {
        using var dir = new TempDir();
        var path = dir.File("images-idx3-ubyte" + ext);
        var data = Enumerable.Range(0, 3 * 5 * 4).Select(i => (byte)(i * 7)).ToArray();
        IdxReader.Write(path, new[] { 3, 5, 4 }, data);
        if (ext == ".gz") Assert.Equal(new byte[] { 0x1f, 0x8b }, File.ReadAllBytes(path)[..2]);

        var idx = IdxReader.Read(path);

        Assert.Equal(new[] { 3, 5, 4 }, idx.Shape);
        Assert.Equal(3, idx.Count);
        Assert.Equal(data, idx.Data);
    }

    [Fact]
    public void Reads_the_big_endian_header_as_written_by_hand()
    {
        // magic 0x00000801 (ubyte, 1 dimension), 3 labels: 7, 0, 9
        var idx = IdxReader.Parse("labels", new byte[] { 0, 0, 8, 1, 0, 0, 0, 3, 7, 0, 9 });
        Assert.Equal(new[] { 3 }, idx.Shape);
        Assert.Equal(new byte[] { 7, 0, 9 }, idx.Data);
    }

    [Fact]
    public void Truncated_data_is_reported_with_the_sizes()
    {
        using var dir = new TempDir();
        var path = dir.File("t10k-images-idx3-ubyte");
        IdxReader.Write(path, new[] { 10, 28, 28 }, new byte[10 * 28 * 28]);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 100)]);

        var e = Assert.Throws<InvalidDataException>(() => IdxReader.Read(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
        Assert.Contains($"need {10 * 28 * 28} data bytes, found {10 * 28 * 28 - 100}", e.Message);
    }

    [Fact]
    public void Truncated_gzip_file_is_an_error()
    {
        using var dir = new TempDir();
        var path = dir.File("train-images-idx3-ubyte.gz");
        var random = new Random(3);
        var data = new byte[50 * 28 * 28];
        random.NextBytes(data);
        IdxReader.Write(path, new[] { 50, 28, 28 }, data);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        var e = Assert.Throws<InvalidDataException>(() => IdxReader.Read(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Truncated_header_is_an_error()
    {
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.Parse("x", new byte[] { 0, 0, 8, 3, 0, 0, 0, 2, 0, 0 }));
        Assert.Contains("shorter than its 16-byte header", e.Message);
        e = Assert.Throws<InvalidDataException>(() => IdxReader.Parse("x", new byte[] { 0, 0 }));
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Wrong_magic_type_rank_and_trailing_bytes_are_errors()
    {
        Assert.Contains("not an IDX file", Assert.Throws<InvalidDataException>(() => IdxReader.Parse("x", "PK\u0003\u0004zipzip"u8)).Message);
        Assert.Contains("element type 0x0d", Assert.Throws<InvalidDataException>(() => IdxReader.Parse("x", new byte[] { 0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0 })).Message);
        Assert.Contains("0 dimensions", Assert.Throws<InvalidDataException>(() => IdxReader.Parse("x", new byte[] { 0, 0, 8, 0 })).Message);
        Assert.Contains("trailing data", Assert.Throws<InvalidDataException>(() => IdxReader.Parse("x", new byte[] { 0, 0, 8, 1, 0, 0, 0, 1, 5, 6 })).Message);
        Assert.Contains("positive size", Assert.Throws<InvalidDataException>(() => IdxReader.Parse("x", new byte[] { 0, 0, 8, 1, 0xff, 0xff, 0xff, 0xff })).Message);
    }

    [Fact]
    public void Gzip_with_garbage_inside_is_an_error()
    {
        using var dir = new TempDir();
        var path = dir.File("bad.gz");
        var bytes = new byte[] { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 }.Concat(Enumerable.Repeat((byte)0xff, 64)).ToArray();
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.Read(path));
        Assert.Contains(path, e.Message);
    }
}

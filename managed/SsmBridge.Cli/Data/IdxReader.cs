using System.Buffers.Binary;
using System.IO.Compression;

namespace SsmBridge.Cli.Data;

/// <summary>An IDX array (the MNIST file format): its dimensions and its unsigned-byte data, row-major.</summary>
public sealed record IdxArray(int[] Shape, byte[] Data)
{
    public long Count => Shape[0];
}

/// <summary>
/// Reads IDX files (http://yann.lecun.com/exdb/mnist/ format), raw or gzip-compressed. Header: two zero
/// bytes, a type code (0x08 = unsigned byte, the only type image data sets use), the number of
/// dimensions, then each dimension as a big-endian int32; the data follows and must be exactly as long as
/// the dimensions say. Every deviation is an <see cref="InvalidDataException"/> that names the file.
/// </summary>
public static class IdxReader
{
    private const byte UnsignedByte = 0x08;

    public static IdxArray Read(string path)
    {
        byte[] bytes;
        try {
            bytes = File.ReadAllBytes(path);
        } catch (Exception e) when (e is IOException or UnauthorizedAccessException) {
            throw new InvalidDataException($"{path}: cannot read ({e.Message})", e);
        }
        if (bytes.Length >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) bytes = Gunzip(path, bytes);
        return Parse(path, bytes);
    }

    /// <summary>Parses the bytes of an uncompressed IDX file; <paramref name="name"/> is used in messages.</summary>
    public static IdxArray Parse(string name, ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 4)
            throw new InvalidDataException($"{name}: truncated IDX file: {bytes.Length} bytes, shorter than the 4-byte magic number");
        if (bytes[0] != 0 || bytes[1] != 0)
            throw new InvalidDataException($"{name}: not an IDX file (magic number 0x{bytes[0]:x2}{bytes[1]:x2}{bytes[2]:x2}{bytes[3]:x2} does not start with two zero bytes)");
        if (bytes[2] != UnsignedByte)
            throw new InvalidDataException($"{name}: IDX element type 0x{bytes[2]:x2} is not supported (expected 0x08, unsigned byte)");
        int rank = bytes[3];
        if (rank is < 1 or > 4)
            throw new InvalidDataException($"{name}: IDX file with {rank} dimensions (expected 1 to 4)");
        int header = 4 + 4 * rank;
        if (bytes.Length < header)
            throw new InvalidDataException($"{name}: truncated IDX file: {bytes.Length} bytes, shorter than its {header}-byte header");

        var shape = new int[rank];
        long expected = 1;
        for (int i = 0; i < rank; i++) {
            int d = BinaryPrimitives.ReadInt32BigEndian(bytes.Slice(4 + 4 * i, 4));
            if (d <= 0) throw new InvalidDataException($"{name}: IDX dimension {i} is {d} (expected a positive size)");
            shape[i] = d;
            expected *= d;
            if (expected > Array.MaxLength)
                throw new InvalidDataException($"{name}: IDX dimensions [{string.Join(", ", shape.Take(i + 1))}] describe more than {Array.MaxLength} bytes");
        }
        long actual = bytes.Length - header;
        if (actual < expected)
            throw new InvalidDataException($"{name}: truncated IDX file: dimensions [{string.Join(", ", shape)}] need {expected} data bytes, found {actual}");
        if (actual > expected)
            throw new InvalidDataException($"{name}: corrupt IDX file: dimensions [{string.Join(", ", shape)}] need {expected} data bytes, found {actual} (trailing data)");
        return new IdxArray(shape, bytes.Slice(header).ToArray());
    }

    private static byte[] Gunzip(string path, byte[] compressed)
    {
        try {
            using var input = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
            using var output = new MemoryStream();
            input.CopyTo(output);
            return output.ToArray();
        } catch (InvalidDataException e) {
            throw new InvalidDataException($"{path}: corrupt or truncated gzip data ({e.Message})", e);
        } catch (EndOfStreamException e) {
            throw new InvalidDataException($"{path}: truncated gzip data ({e.Message})", e);
        }
    }

    /// <summary>Writes an unsigned-byte IDX file (gzip-compressed when the name ends in .gz).</summary>
    public static void Write(string path, int[] shape, ReadOnlySpan<byte> data)
    {
        using var file = File.Create(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)
            ? new GZipStream(file, CompressionLevel.Fastest) : file;
        Span<byte> word = stackalloc byte[4];
        stream.Write(new byte[] { 0, 0, UnsignedByte, (byte)shape.Length });
        foreach (var d in shape) {
            BinaryPrimitives.WriteInt32BigEndian(word, d);
            stream.Write(word);
        }
        stream.Write(data);
    }
}

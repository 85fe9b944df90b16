using TorchSharp;
using static TorchSharp.torch;

namespace SsmBridge.Internal;

/// <summary>The checks every image model's forward runs before its first layer.</summary>
internal static class ModelInput
{
    /// <summary>
    /// (batch, channels, height, width) images: a floating-point tensor on a usable device (ImageShape), on the
    /// device and in the dtype of the model's parameters (libtorch would otherwise fail deep inside the first convolution), with
    /// the model's channel count and at least <paramref name="minSize"/> pixels per side.
    /// </summary>
    public static void Images(Tensor images, string name, long channels, long minSize, nn.Module model)
    {
        var shape = ImageShape.OfImage(images, name, channelFirst: true);
        var weights = model.parameters().FirstOrDefault();
        if (weights is not null && (images.device_type != weights.device_type || images.device_index != weights.device_index))
            throw Check.Fail(name, $"a tensor on {weights.device} (the device of the model's parameters)", $"one on {images.device}");
        if (weights is not null && images.dtype != weights.dtype)
            throw Check.Fail(name, $"dtype {weights.dtype} (the dtype of the model's parameters)", images.dtype.ToString());
        if (shape.Channels != channels || shape.Height < minSize || shape.Width < minSize)
            throw Check.Fail(name, $"{channels} channels and height and width at least {minSize} in (batch, channels, height, width)",
                             $"shape {Check.Shape(images.shape)}");
    }
}

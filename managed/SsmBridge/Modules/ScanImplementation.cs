namespace SsmBridge.Modules;

/// <summary>Which selective scan a module runs: the fused native kernel or the plain-TorchSharp reference.</summary>
public enum ScanImplementation
{
    /// <summary><see cref="ops.selective_scan"/>: the native fused kernel.</summary>
    Fused,
    /// <summary><see cref="reference.selective_scan"/>: materialized TorchSharp ops (slow; for checks and baselines).</summary>
    Reference,
}

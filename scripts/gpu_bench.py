#!/usr/bin/env python3
"""Fused CUDA selective scan (libssmbridge through ctypes) against a PyTorch reference.

The reference materializes the discretized A and B u for every (batch, channel, time, state) and runs
the recurrence step by step in Python, as Mamba's selective_scan_ref does; its backward is PyTorch
autograd. For each shape both are timed (forward, and forward + backward), their outputs and every
gradient are compared, and a table is printed last. Called by scripts/gpu_check.sh.
"""
import argparse
import ctypes
import math
import sys

import torch
import torch.nn.functional as F

FLOAT32, FLOAT16, BFLOAT16 = 0, 2, 3
DTYPES = {torch.float32: FLOAT32, torch.float16: FLOAT16, torch.bfloat16: BFLOAT16}


class Lib:
    """The CUDA entry points of ssmbridge.h; a failing status raises with ssmb_last_error()."""

    def __init__(self, path):
        self.lib = ctypes.CDLL(path)
        i32, i64, p = ctypes.c_int32, ctypes.c_int64, ctypes.c_void_p
        sizes = [i32, i32, i64, i64, i64, i64, i64, i32, i32]
        self.lib.ssmb_last_error.restype = ctypes.c_char_p
        self.lib.ssmb_has_cuda.restype = ctypes.c_int
        self.lib.ssmb_selective_scan_fwd_cuda.argtypes = sizes + [p] * 8 + [i32, i32] + [p] * 4
        self.lib.ssmb_selective_scan_bwd_workspace_size_cuda.argtypes = sizes + [ctypes.POINTER(i64)]
        self.lib.ssmb_selective_scan_bwd_cuda.argtypes = sizes + [p] * 8 + [i32, i32] + [p] * 3 + [p] * 9 + [i64, p]
        self.lib.ssmb_selective_scan_chunk_size.restype = i64
        # Issue 8, part 2: S4D kernel and fused cross selective scan.
        self.lib.ssmb_s4d_kernel_fwd_cuda.argtypes = [i32, i64, i64, i64] + [p] * 7
        self.lib.ssmb_s4d_kernel_bwd_cuda.argtypes = [i32, i64, i64, i64] + [p] * 12
        cross = [i32, i32, i64, i64, i64, i64, i64]
        self.lib.ssmb_cross_selective_scan_fwd_cuda.argtypes = cross + [p] * 7 + [i32] + [p] * 3
        self.lib.ssmb_cross_selective_scan_bwd_workspace_size_cuda.argtypes = cross + [ctypes.POINTER(i64)]
        self.lib.ssmb_cross_selective_scan_bwd_cuda.argtypes = cross + [p] * 7 + [i32] + [p] * 10 + [i64, p]
        if self.lib.ssmb_has_cuda() != 1:
            sys.exit(f"{path} was built without CUDA")

    def check(self, status):
        if status != 0:
            raise RuntimeError(self.lib.ssmb_last_error().decode())

    def chunk_size(self):
        return self.lib.ssmb_selective_scan_chunk_size()

    def fwd(self, *args):
        self.check(self.lib.ssmb_selective_scan_fwd_cuda(*args))

    def workspace_size(self, *args):
        size = ctypes.c_int64()
        self.check(self.lib.ssmb_selective_scan_bwd_workspace_size_cuda(*args, ctypes.byref(size)))
        return size.value

    def bwd(self, *args):
        self.check(self.lib.ssmb_selective_scan_bwd_cuda(*args))


def ptr(t):
    return None if t is None else t.data_ptr()


class FusedScan:
    """One shape's fused forward / backward with preallocated outputs (the managed layer's job)."""

    def __init__(self, lib, x, groups, softplus):
        self.lib, self.x = lib, x
        u = x["u"]
        batch, dim, L = u.shape
        N = x["A"].shape[1]
        self.sizes = (DTYPES[u.dtype], FLOAT32, batch, dim, L, N, groups, 1, 1)
        self.softplus = softplus
        chunks = (L + lib.chunk_size() - 1) // lib.chunk_size()
        dev = u.device
        f32 = dict(device=dev, dtype=torch.float32)
        self.out = torch.empty_like(u)
        self.chunk_states = torch.empty(batch, dim, chunks, N, **f32)
        self.last_state = torch.empty(batch, dim, N, **f32)
        self.grads = {k: torch.empty_like(v) for k, v in x.items() if v is not None}
        self.workspace = torch.empty(lib.workspace_size(*self.sizes), dtype=torch.uint8, device=dev)

    def inputs(self):
        x = self.x
        return [ptr(x[k]) for k in ("u", "delta", "A", "B", "C", "D", "z", "delta_bias")] + [self.softplus, 0]

    def forward(self):
        self.lib.fwd(*self.sizes, *self.inputs(), ptr(self.out), ptr(self.chunk_states), ptr(self.last_state), None)
        return self.out

    def backward(self, dout):
        g = self.grads
        self.lib.bwd(*self.sizes, *self.inputs(), ptr(self.chunk_states), ptr(dout), None,
                     *[ptr(g.get(k)) for k in ("u", "delta", "A", "B", "C", "D", "z", "delta_bias")],
                     ptr(self.workspace), self.workspace.numel(), None)
        return g


def reference_scan(u, delta, A, B, C, D, z, delta_bias, softplus):
    """Mamba's selective_scan_ref, in float32: every state materialized, a Python loop over time."""
    u, delta, B, C, z = (t.float() if t is not None else None for t in (u, delta, B, C, z))
    dt = delta + delta_bias[:, None] if delta_bias is not None else delta
    if softplus:
        dt = F.softplus(dt)
    batch, dim, L = u.shape
    G = B.shape[1]
    B = B.repeat_interleave(dim // G, dim=1)  # (batch, dim, N, L)
    C = C.repeat_interleave(dim // G, dim=1)
    decay = torch.exp(torch.einsum("bdl,dn->bdln", dt, A))
    drive = torch.einsum("bdl,bdnl,bdl->bdln", dt, B, u)
    h = u.new_zeros(batch, dim, A.shape[1])
    ys = []
    for t in range(L):
        h = decay[:, :, t] * h + drive[:, :, t]
        ys.append(torch.einsum("bdn,bdn->bd", h, C[:, :, :, t]))
    y = torch.stack(ys, dim=2)
    if D is not None:
        y = y + u * D[:, None]
    return y * F.silu(z) if z is not None else y


def make_inputs(batch, dim, L, N, groups, dtype, with_z, seed=0):
    g = torch.Generator(device="cuda").manual_seed(seed)
    dev = dict(device="cuda")

    def randn(*shape, dt=dtype):
        return torch.randn(*shape, generator=g, **dev).to(dt)

    return {
        "u": randn(batch, dim, L),
        "delta": (torch.rand(batch, dim, L, generator=g, **dev) * 4 - 3).to(dtype),
        "A": -(torch.rand(dim, N, generator=g, **dev) * 1.5 + 0.5),
        "B": randn(batch, groups, N, L),
        "C": randn(batch, groups, N, L),
        "D": randn(dim, dt=torch.float32),
        "z": randn(batch, dim, L) if with_z else None,
        "delta_bias": torch.rand(dim, generator=g, **dev) * 2 - 1,
    }


def time_ms(fn, reps, warmup=1):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(reps):
        fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / reps


def max_error(got, want):
    """max |got - want| / (|want| + rms(want)), as the native tests measure it."""
    got, want = got.float(), want.float()
    rms = want.pow(2).mean().sqrt().clamp_min(1e-30)
    return ((got - want).abs() / (want.abs() + rms)).max().item()


def run_shape(lib, name, batch, dim, L, N, groups, dtype, with_z, ref_reps):
    x = make_inputs(batch, dim, L, N, groups, dtype, with_z)
    fused = FusedScan(lib, x, groups, softplus=1)
    dout = torch.randn(batch, dim, L, device="cuda").to(dtype)

    # Reference in float32 on the same (rounded) values, with autograd for every gradient.
    leaves = {k: (v.detach().float().requires_grad_() if v is not None else None) for k, v in x.items()}
    args = [leaves[k] for k in ("u", "delta", "A", "B", "C", "D", "z", "delta_bias")]
    ref_out = reference_scan(*args, softplus=True)
    ref_grads = torch.autograd.grad(ref_out, [a for a in args if a is not None], dout.float())
    fused_out = fused.forward()
    grads = fused.backward(dout)
    torch.cuda.synchronize()
    errors = [max_error(fused_out, ref_out)]
    names = [k for k in ("u", "delta", "A", "B", "C", "D", "z", "delta_bias") if leaves[k] is not None]
    errors += [max_error(grads[k], r) for k, r in zip(names, ref_grads)]
    worst = max(errors)
    tol = 1e-4 if dtype == torch.float32 else 2e-2
    del ref_out, ref_grads

    def ref_fwd():
        with torch.no_grad():
            reference_scan(*args, softplus=True)

    def ref_fwd_bwd():
        out = reference_scan(*args, softplus=True)
        torch.autograd.grad(out, [a for a in args if a is not None], dout.float())

    def fused_fwd_bwd():
        fused.forward()
        fused.backward(dout)

    row = {
        "name": name,
        "ref_fwd": time_ms(ref_fwd, ref_reps),
        "fused_fwd": time_ms(fused.forward, 20, warmup=3),
        "ref_fb": time_ms(ref_fwd_bwd, ref_reps),
        "fused_fb": time_ms(fused_fwd_bwd, 20, warmup=3),
        "error": worst,
        "ok": worst <= tol,
    }
    peak = torch.cuda.max_memory_allocated() / 2**30
    print(f"{name}: max error {worst:.2e} (tolerance {tol:.0e}, per tensor "
          f"{', '.join(f'{n}={e:.1e}' for n, e in zip(['out'] + names, errors))}); peak torch memory {peak:.1f} GiB",
          flush=True)
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    return row


def s4d_reference(log_dt, A_real, A_imag, C_real, C_imag, L):
    """Upstream S4D's kernel (Vandermonde product, every exp(dt A l) of (H, N, L) materialized)."""
    dt = torch.exp(log_dt)[:, None]
    A = torch.complex(A_real, A_imag)
    C = torch.complex(C_real, C_imag)
    dtA = dt * A
    l = torch.arange(L, device=log_dt.device, dtype=log_dt.dtype)
    return 2 * torch.einsum("hn,hnl->hl", C * (torch.exp(dtA) - 1) / A, torch.exp(dtA[..., None] * l)).real


def run_s4d(lib, name, H, N, L, ref_reps):
    """ssmb_s4d_kernel_*_cuda (float32) against the upstream formula (float32 timed, float64 for the values)."""
    g = torch.Generator(device="cuda").manual_seed(1)
    dev = dict(device="cuda", dtype=torch.float32)
    log_dt = torch.rand(H, generator=g, **dev) * (math.log(0.1) - math.log(0.001)) + math.log(0.001)
    A_real = -0.5 * torch.ones(H, N, **dev)
    A_imag = math.pi * torch.arange(N, **dev).expand(H, N).contiguous()
    C_real, C_imag = torch.randn(H, N, generator=g, **dev), torch.randn(H, N, generator=g, **dev)
    dK = torch.randn(H, L, generator=g, **dev)
    x = [log_dt, A_real, A_imag, C_real, C_imag]
    K = torch.empty(H, L, **dev)
    grads = [torch.empty_like(t) for t in x]

    def fused_fwd():
        lib.check(lib.lib.ssmb_s4d_kernel_fwd_cuda(FLOAT32, H, N, L, *[ptr(t) for t in x], ptr(K), None))

    def fused_bwd():
        lib.check(lib.lib.ssmb_s4d_kernel_bwd_cuda(FLOAT32, H, N, L, *[ptr(t) for t in x], ptr(dK),
                                                   *[ptr(t) for t in grads], None))

    def fused_fb():
        fused_fwd()
        fused_bwd()

    fused_fb()
    leaves64 = [t.detach().double().requires_grad_() for t in x]
    ref64 = s4d_reference(*leaves64, L)
    ref_grads = torch.autograd.grad(ref64, leaves64, dK.double())
    torch.cuda.synchronize()
    errors = [max_error(K, ref64)] + [max_error(a, b) for a, b in zip(grads, ref_grads)]
    worst = max(errors)
    del ref64, ref_grads, leaves64
    leaves = [t.detach().requires_grad_() for t in x]

    def ref_fwd():
        with torch.no_grad():
            s4d_reference(*leaves, L)

    def ref_fb():
        torch.autograd.grad(s4d_reference(*leaves, L), leaves, dK)

    row = {"name": name, "ref_fwd": time_ms(ref_fwd, ref_reps), "fused_fwd": time_ms(fused_fwd, 20, warmup=3),
           "ref_fb": time_ms(ref_fb, ref_reps), "fused_fb": time_ms(fused_fb, 20, warmup=3),
           "error": worst, "ok": worst <= 1e-4}
    print(f"{name}: max error {worst:.2e} against float64 (per tensor "
          f"{', '.join(f'{n}={e:.1e}' for n, e in zip(['K', 'dlog_dt', 'dA_real', 'dA_imag', 'dC_real', 'dC_imag'], errors))})",
          flush=True)
    torch.cuda.empty_cache()
    return row


def scan_orders(x):
    """(..., H, W) pixel order -> the four cross-scan sequences (..., 4, L)."""
    rows, cols = x.flatten(-2), x.transpose(-1, -2).flatten(-2)
    return torch.stack([rows, cols, rows.flip(-1), cols.flip(-1)], dim=-2)


def cross_reference(u, delta, A, B, C, D, delta_bias, H, W):
    """cross_scan + Mamba's selective_scan_ref + cross_merge (the composition the fused op replaces)."""
    batch, dim = u.shape[:2]
    L = H * W
    pick = lambda t: torch.stack([scan_orders(t[:, k])[..., k, :] for k in range(4)], dim=1)  # (b, 4, ., L)
    us = scan_orders(u).transpose(1, 2).reshape(batch, 4 * dim, L)
    deltas = pick(delta).reshape(batch, 4 * dim, L)
    ys = reference_scan(us, deltas, A, pick(B), pick(C), D, None, delta_bias, True).view(batch, 4, dim, L)
    back = lambda y: y.view(batch, dim, W, H).transpose(-1, -2).reshape(batch, dim, L)
    return (ys[:, 0] + ys[:, 2].flip(-1)) + (back(ys[:, 1]) + back(ys[:, 3].flip(-1)))


def run_cross(lib, name, batch, dim, H, W, N, ref_reps):
    """ssmb_cross_selective_scan_*_cuda (float32) against the composition in PyTorch."""
    g = torch.Generator(device="cuda").manual_seed(2)
    dev = dict(device="cuda", dtype=torch.float32)
    L = H * W
    x = {"u": torch.randn(batch, dim, H, W, generator=g, **dev),
         "delta": torch.rand(batch, 4, dim, H, W, generator=g, **dev) * 4 - 3,
         "A": -(torch.rand(4 * dim, N, generator=g, **dev) * 1.5 + 0.5),
         "B": torch.randn(batch, 4, N, H, W, generator=g, **dev),
         "C": torch.randn(batch, 4, N, H, W, generator=g, **dev),
         "D": torch.randn(4 * dim, generator=g, **dev),
         "delta_bias": torch.rand(4 * dim, generator=g, **dev) * 2 - 1}
    names = list(x)
    dout = torch.randn(batch, dim, L, generator=g, **dev)
    chunks = (L + lib.chunk_size() - 1) // lib.chunk_size()
    out = torch.empty(batch, dim, L, **dev)
    states = torch.empty(batch, 4 * dim, chunks, N, **dev)
    grads = {k: torch.empty_like(v) for k, v in x.items()}
    sizes = (FLOAT32, FLOAT32, batch, dim, H, W, N)
    size = ctypes.c_int64()
    lib.check(lib.lib.ssmb_cross_selective_scan_bwd_workspace_size_cuda(*sizes, ctypes.byref(size)))
    workspace = torch.empty(size.value, dtype=torch.uint8, device="cuda")
    inputs = [ptr(x[k]) for k in names] + [1]

    def fused_fwd():
        lib.check(lib.lib.ssmb_cross_selective_scan_fwd_cuda(*sizes, *inputs, ptr(out), ptr(states), None))

    def fused_fb():
        fused_fwd()
        lib.check(lib.lib.ssmb_cross_selective_scan_bwd_cuda(*sizes, *inputs, ptr(states), ptr(dout),
                                                             *[ptr(grads[k]) for k in names],
                                                             ptr(workspace), workspace.numel(), None))

    fused_fb()
    leaves = {k: v.detach().clone().requires_grad_() for k, v in x.items()}
    args = [leaves[k] for k in names]
    ref = cross_reference(*args, H, W)
    ref_grads = torch.autograd.grad(ref, args, dout)
    torch.cuda.synchronize()
    errors = [max_error(out, ref)] + [max_error(grads[k], r) for k, r in zip(names, ref_grads)]
    worst = max(errors)
    del ref, ref_grads

    def ref_fwd():
        with torch.no_grad():
            cross_reference(*args, H, W)

    def ref_fb():
        torch.autograd.grad(cross_reference(*args, H, W), args, dout)

    row = {"name": name, "ref_fwd": time_ms(ref_fwd, ref_reps), "fused_fwd": time_ms(fused_fwd, 20, warmup=3),
           "ref_fb": time_ms(ref_fb, ref_reps), "fused_fb": time_ms(fused_fb, 20, warmup=3),
           "error": worst, "ok": worst <= 1e-4}
    print(f"{name}: max error {worst:.2e} (per tensor "
          f"{', '.join(f'{n}={e:.1e}' for n, e in zip(['out'] + names, errors))}); workspace "
          f"{size.value / 2**20:.0f} MiB", flush=True)
    torch.cuda.empty_cache()
    return row


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lib", required=True)
    parser.add_argument("--quick", action="store_true", help="one small shape")
    args = parser.parse_args()
    lib = Lib(args.lib)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    # name, batch, dim, L, N, groups, dtype, z, reference repetitions
    shapes = [
        ("Vim-Ti b8 d768 L197 N16 z", 8, 768, 197, 16, 1, torch.float32, True, 3),
        ("VMamba-T s1 b4 d4x192 L3136 N1 G4", 4, 768, 3136, 1, 4, torch.float32, False, 2),
        ("VMamba-T s1 b4 d4x192 L3136 N16 G4", 4, 768, 3136, 16, 4, torch.float32, False, 1),
        ("long b1 d768 L8192 N16 z", 1, 768, 8192, 16, 1, torch.float32, True, 1),
        ("Vim-Ti b8 d768 L197 N16 z bf16", 8, 768, 197, 16, 1, torch.bfloat16, True, 3),
    ]
    if args.quick:
        shapes = [("small b2 d64 L300 N16", 2, 64, 300, 16, 1, torch.float32, True, 1)]
    rows = [run_shape(lib, *s) for s in shapes]
    # Issue 8, part 2: one row each for the S4D kernel and the fused cross selective scan (SS2D).
    if not args.quick:
        rows.append(run_s4d(lib, "S4D kernel H256 N32 L4096 (ref: Vandermonde)", 256, 32, 4096, 3))
        rows.append(run_cross(lib, "SS2D fused b2 d192 56x56 N1 (ref: composition)", 2, 192, 56, 56, 1, 1))
    device = torch.cuda.get_device_name(0)
    print(f"\nFused CUDA selective scan vs PyTorch reference (materialized, Python loop over L) on {device}; "
          "ms per call, CUDA events; selective B/C, D, delta_bias, softplus on; gate z where named")
    header = "| shape | ref fwd | fused fwd | speedup | ref fwd+bwd | fused fwd+bwd | speedup | max error |"
    print(header)
    print("|" + "---|" * 8)
    for r in rows:
        print(f"| {r['name']} | {r['ref_fwd']:.2f} | {r['fused_fwd']:.3f} | {r['ref_fwd'] / r['fused_fwd']:.0f}x | "
              f"{r['ref_fb']:.2f} | {r['fused_fb']:.3f} | {r['ref_fb'] / r['fused_fb']:.0f}x | "
              f"{r['error']:.1e}{'' if r['ok'] else ' FAIL'} |")
    if not all(r["ok"] for r in rows):
        sys.exit("fused and reference values disagree (FAIL rows above)")


if __name__ == "__main__":
    main()

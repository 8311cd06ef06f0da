"""Benchmark (issue 12): the fast paths on one GPU against torch SDPA (FlashAttention) and Performer FAVOR+.

One run on one device measures, for d in {4, 8, 16}, B in {0.5, 1, 2} (entries of
Q, K uniform in [-B, B], V in [-1, 1], logits <q, k>/d) and n = 2^12 ... 2^20:

* forward time and max abs error (against float64 exact attention on 256
  sampled rows) of the fast path in float32 (at the smallest eps float32
  certifies, from 1e-6 up) and float64 (eps = 1e-6); of
  ``torch.nn.functional.scaled_dot_product_attention`` in bfloat16, float16 and
  float32 (float32 only up to 2^18; SDPA is timed once per (d, n), its error is
  measured for every B); and of FAVOR+ (Performer's positive orthogonal random
  features, Choromanski et al., arXiv 2009.14794, float32) with the smallest
  m in {64, ..., 4096} reaching the fast path's error, else m = 4096;
* forward+backward time of the same (the fast path through
  :mod:`algorithms.torch_autograd`, whose backward is the closed-form fast VJP);
* tensor attention, d = 4, n = 4096: exact (torch float32, streamed over
  64-query blocks, its achieved flop/s printed) against the fast tensor path,
  forward and forward+backward;
* the crossover n per (d, B): the first n where a certified fast forward beats
  SDPA bfloat16.

A configuration whose fast path is refused (cost, or an estimated time above
``--max-fast-flops``) is reported as such.  Results are written after every
configuration to ``bench/results/<--results>.json`` (:mod:`_results`), with the
GPU's name and torch's version.  The default run is sized for about five
minutes on one H100/H200 (``--budget`` seconds, after which larger n are
skipped and said so).  ``--device cpu --quick`` is a tiny smoke run (seconds)
that the tests exercise.

Usage: python bench/gpu.py [--device cuda|cpu] [--quick] [--budget SECONDS] [--results NAME]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

import _results  # noqa: E402

from algorithms.attention import attention_fast  # noqa: E402
from algorithms.polynomial_method import FastPathUnavailable, fast_flops  # noqa: E402
from algorithms.tensor_attention import tensor_attention_fast  # noqa: E402

EPS64, SAMPLE = 1e-6, 256
EPS_LADDER = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)
FAVOR_MS = (64, 128, 256, 512, 1024, 2048, 4096)


def _torch():
    import torch
    return torch


def sync(device):
    if str(device).startswith("cuda"):
        _torch().cuda.synchronize()


def timed(f, device, repeats=3):
    """Best of ``repeats`` wall times of ``f()`` after one warm-up call, synchronising the device."""
    f()
    sync(device)
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        sync(device)
        best = min(best, time.perf_counter() - start)
    return best


# ---------------------------------------------------------------------------- baselines
def exact_rows(Q, K, V, rows):
    """Float64 exact attention of the sampled query rows."""
    torch = _torch()
    q, k, v = Q[rows].double(), K.double(), V.double()
    return torch.softmax(q @ k.T / Q.shape[1], dim=1) @ v


def sdpa(Q, K, V):
    F = _torch().nn.functional
    return F.scaled_dot_product_attention(Q[None, None], K[None, None], V[None, None], scale=1.0 / Q.shape[1])[0, 0]


def favor_features(X, W, is_query):
    """Positive random features of FAVOR+ (Choromanski et al. 2020, Lemma 1): ``exp(W x - |x|^2 / 2) / sqrt(m)``.

    ``x = X / sqrt(d)`` so that ``E[phi(q) . phi(k)] = exp(<x_q, x_k>) = exp(<q, k> / d)``.  A max is subtracted for
    stability (per row for queries, globally for keys): it cancels in the normalisation.
    """
    torch = _torch()
    x = X / X.shape[1] ** 0.5
    proj = x @ W.T
    shift = proj.max(dim=1, keepdim=True).values if is_query else proj.max()
    return torch.exp(proj - shift - (x * x).sum(dim=1, keepdim=True) / 2) / math.sqrt(W.shape[0])


def orthogonal_gaussian(m, d, generator, device, dtype):
    """``m`` rows of blocks of ``d`` orthogonal Gaussian directions, each rescaled by a chi(d) norm (FAVOR+'s ORF)."""
    torch = _torch()
    blocks = []
    for _ in range(-(-m // d)):
        G = torch.randn(d, d, generator=generator, dtype=torch.float64)
        Qm, _ = torch.linalg.qr(G)
        norms = torch.randn(d, d, generator=generator, dtype=torch.float64).norm(dim=1)
        blocks.append(Qm * norms[:, None])
    return torch.cat(blocks)[:m].to(device=device, dtype=dtype)


def favor(Q, K, V, W, rows=None):
    torch = _torch()
    phi_k = favor_features(K, W, False)
    state = phi_k.T @ torch.cat([V, torch.ones_like(V[:, :1])], dim=1)
    phi_q = favor_features(Q if rows is None else Q[rows], W, True)
    out = phi_q @ state
    return out[:, :-1] / out[:, -1:]


def exact_tensor_torch(Q, K1, K2, V1, V2, qblock=64, entries=2**26):
    """Exact tensor attention in torch, streamed over 64-query blocks and blocks of j1 (online softmax)."""
    torch = _torch()
    n, d = Q.shape
    n2, p = K2.shape[0], V1.shape[1]
    b1 = max(1, entries // (qblock * n2))
    outs = []
    for qs in range(0, n, qblock):
        Qb = Q[qs : qs + qblock]
        run_max = torch.full((Qb.shape[0], 1, 1), -math.inf, device=Q.device, dtype=Q.dtype)
        total = torch.zeros((Qb.shape[0], 1), device=Q.device, dtype=Q.dtype)
        acc = torch.zeros((Qb.shape[0], p), device=Q.device, dtype=Q.dtype)
        for js in range(0, K1.shape[0], b1):
            S = (Qb[:, None, :] * K1[None, js : js + b1, :]) @ K2.T / d  # (q, b1, n2)
            new_max = torch.maximum(run_max, S.amax(dim=(1, 2), keepdim=True))
            scale = torch.exp(run_max - new_max)[:, :, 0]
            w = torch.exp(S - new_max)
            total = total * scale + w.sum(dim=(1, 2))[:, None]
            acc = acc * scale + ((w @ V2) * V1[None, js : js + b1, :]).sum(dim=1)
            run_max = new_max
        outs.append(acc / total)
    return torch.cat(outs)


def exact_tensor_flops(n, d, p):
    return float(n) ** 3 * (2 * d + 2 * p + 4)


# ---------------------------------------------------------------------------- one configuration
def fast_certified(args, dtype, torch):
    """``(eps, output)`` of the fast path at the smallest certified eps (float32) or at 1e-6 (float64); or why not."""
    ladder = EPS_LADDER if dtype == torch.float32 else (EPS64,)
    last = None
    for eps in ladder:
        try:
            return eps, attention_fast(*args, eps)
        except FastPathUnavailable as exc:
            last = exc
            if exc.reason not in ("float32",):
                break
    return None, f"refused ({last.reason})"


def run_config(d, B, n, device, state, opts):
    torch = _torch()
    gen = torch.Generator().manual_seed(1000 * d + n + int(10 * B))
    Q64 = (2 * torch.rand(n, d, generator=gen, dtype=torch.float64) - 1).mul_(B).to(device)
    K64 = (2 * torch.rand(n, d, generator=gen, dtype=torch.float64) - 1).mul_(B).to(device)
    V64 = (2 * torch.rand(n, d, generator=gen, dtype=torch.float64) - 1).to(device)
    rows = torch.randperm(n, generator=gen)[:SAMPLE].to(device)
    ref = exact_rows(Q64, K64, V64, rows)
    G64 = torch.rand(n, d, dtype=torch.float64, generator=gen).to(device)
    err = lambda out: float((out[rows].double() - ref).abs().max())  # noqa: E731
    row = dict(d=d, B=B, n=n)
    g_rank = None
    for name, dt in (("fast_fp32", torch.float32), ("fast_fp64", torch.float64)):
        args = [X.to(dt) for X in (Q64, K64, V64)]
        # a refused or over-budget configuration is recorded without running it
        try:
            from algorithms.attention import low_rank_attention
            eps0 = EPS64 if dt == torch.float64 else 1e-2
            op = low_rank_attention(args[0], args[1], eps0)
            g_rank = (op.degree, op.rank)
            if fast_flops(n, [n], op.rank, d) > opts.max_fast_flops:
                row[name] = dict(skipped=f"rank {op.rank}: {fast_flops(n, [n], op.rank, d):.2g} flops > budget")
                continue
        except FastPathUnavailable as exc:
            row[name] = dict(skipped=f"refused ({exc.reason})")
            continue
        eps, out = fast_certified(args, dt, torch)
        if eps is None:
            row[name] = dict(skipped=out)
            continue
        op = low_rank_attention(args[0], args[1], eps)
        t = timed(lambda: attention_fast(*args, eps), device)
        entry = dict(eps=eps, ms=1e3 * t, err=err(out), degree=op.degree, rank=op.rank)
        if opts.backward:
            from algorithms.torch_autograd import fast_attention
            leaves = [X.detach().clone().requires_grad_(True) for X in args]
            G = G64.to(dt)
            entry["fb_ms"] = 1e3 * timed(lambda: (fast_attention(*leaves, eps) * G).sum().backward(), device)
        row[name] = entry
    row["degree_rank"] = g_rank
    best_err = min([row[k]["err"] for k in ("fast_fp32", "fast_fp64") if "err" in row[k]], default=1e-6)
    for name, dt in (("sdpa_bf16", torch.bfloat16), ("sdpa_fp16", torch.float16), ("sdpa_fp32", torch.float32)):
        if dt == torch.float32 and n > opts.sdpa_fp32_max:
            row[name] = dict(skipped=f"n > {opts.sdpa_fp32_max}")
            continue
        args = [X.to(dt) for X in (Q64, K64, V64)]
        try:
            entry = dict(err=err(sdpa(*args)))
        except RuntimeError as exc:  # e.g. a dtype the device's SDPA does not support
            row[name] = dict(skipped=f"unsupported: {str(exc)[:60]}")
            continue
        key = (name, d, n)
        if key not in state["sdpa_times"]:
            leaves = [X.detach().clone().requires_grad_(True) for X in args]
            G = G64.to(dt)
            times = dict(ms=1e3 * timed(lambda: sdpa(*args), device))
            if opts.backward:
                times["fb_ms"] = 1e3 * timed(lambda: (sdpa(*leaves) * G).sum().backward(), device)
            state["sdpa_times"][key] = times
        row[name] = {**entry, **state["sdpa_times"][key]}
    Q32, K32, V32 = (X.float() for X in (Q64, K64, V64))
    chosen = None
    for m in FAVOR_MS:
        W = orthogonal_gaussian(m, d, torch.Generator().manual_seed(m), device, torch.float32)
        e = float((favor(Q32, K32, V32, W, rows).double() - ref).abs().max())
        chosen = (m, W, e)
        if e <= best_err:
            break
    m, W, e = chosen
    entry = dict(m=m, err=e, reached=e <= best_err, ms=1e3 * timed(lambda: favor(Q32, K32, V32, W), device))
    if opts.backward:
        leaves = [X.detach().clone().requires_grad_(True) for X in (Q32, K32, V32)]
        G = G64.float()
        entry["fb_ms"] = 1e3 * timed(lambda: (favor(*leaves, W) * G).sum().backward(), device)
    row["favor"] = entry
    return row


def tensor_rows(device, n, opts):
    torch = _torch()
    gen = torch.Generator().manual_seed(7)
    d = 4
    X64 = [(2 * torch.rand(n, d, generator=gen, dtype=torch.float64) - 1).to(device) for _ in range(5)]
    X32 = [X.float() for X in X64]
    flops = exact_tensor_flops(n, d, d)
    t_exact = timed(lambda: exact_tensor_torch(*X32), device, repeats=1)
    out = dict(n=n, d=d, exact_ms=1e3 * t_exact, exact_gflops=flops / t_exact / 1e9)
    rows = torch.arange(0, n, max(1, n // 64), device=device)
    ref = exact_tensor_torch(X64[0][rows], *X64[1:])
    for name, X, ladder in (("fast_fp32", X32, EPS_LADDER), ("fast_fp64", X64, (EPS64,))):
        for eps in ladder:
            try:
                T = tensor_attention_fast(*X, eps)
                break
            except FastPathUnavailable:
                T = None
        if T is None:
            out[name] = dict(skipped="refused")
            continue
        entry = dict(eps=eps, err=float((T[rows].double() - ref).abs().max()),
                     ms=1e3 * timed(lambda: tensor_attention_fast(*X, eps), device))
        if opts.backward:
            from algorithms.torch_autograd import fast_tensor_attention
            leaves = [Y.detach().clone().requires_grad_(True) for Y in X]
            entry["fb_ms"] = 1e3 * timed(lambda: fast_tensor_attention(*leaves, eps).sum().backward(), device)
        out[name] = entry
    if opts.backward:
        from torch.utils.checkpoint import checkpoint
        leaves = [Y.detach().clone().requires_grad_(True) for Y in X32]

        def exact_fb():
            blocks = [checkpoint(exact_tensor_torch, leaves[0][s : s + 64], *leaves[1:], use_reentrant=False)
                      for s in range(0, n, 64)]
            torch.cat(blocks).sum().backward()

        out["exact_fb_ms"] = 1e3 * timed(exact_fb, device, repeats=1)
    return out


# ---------------------------------------------------------------------------- report
def _cell(entry):
    if entry is None:
        return "–"
    if "skipped" in entry:
        return entry["skipped"][:18]
    eps = f"@{entry['eps']:.0e} " if entry.get("eps", 1e-6) != 1e-6 else ""
    return f"{eps}{entry['ms']:.3g} ms, {entry['err']:.1e}"


def print_table(rows_db, backward):
    keys = ["fast_fp32", "fast_fp64", "sdpa_bf16", "sdpa_fp16", "sdpa_fp32", "favor"]
    for (d, B) in sorted({(r["d"], r["B"]) for r in rows_db}):
        sub = [r for r in rows_db if (r["d"], r["B"]) == (d, B)]
        g, rk = sub[0].get("degree_rank") or ("?", "?")
        print(f"\nd = {d}, B = {B:g} (fp64 fast: g = {g}, r = {rk}); forward: time, max error vs float64 exact")
        print(f"{'n':>8} | " + " | ".join(f"{k:>22}" for k in keys))
        for r in sub:
            cells = [_cell(r.get(k)) for k in keys]
            if "m" in r["favor"]:
                cells[-1] = f"m={r['favor']['m']} " + cells[-1]
            print(f"{r['n']:>8} | " + " | ".join(f"{c:>22}" for c in cells))
        if backward:
            print(f"{'n':>8} | forward+backward ms: " + ", ".join(keys))
            for r in sub:
                print(f"{r['n']:>8} | " + ", ".join(f"{r[k]['fb_ms']:.3g}" if "fb_ms" in r.get(k, {}) else "–"
                                                    for k in keys))
        cross = crossover(sub)
        print(f"crossover (first n where a certified fast forward beats SDPA bf16): {cross or 'none measured'}")


def crossover(sub):
    for r in sub:
        fast = [r[k]["ms"] for k in ("fast_fp32", "fast_fp64") if "ms" in r.get(k, {})]
        if fast and "ms" in r.get("sdpa_bf16", {}) and min(fast) < r["sdpa_bf16"]["ms"]:
            return r["n"]
    return None


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="cuda (default when available) or cpu")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke run of seconds)")
    parser.add_argument("--budget", type=float, default=270.0, help="seconds; larger n are skipped past it")
    parser.add_argument("--max-fast-flops", type=float, default=4e12, help="skip a fast path estimated above this")
    parser.add_argument("--no-backward", dest="backward", action="store_false", help="forward only")
    parser.add_argument("--results", default=None, help="name of the JSON in bench/results (default gpu / gpu_quick)")
    parser.add_argument("--results-dir", default=None, help="write the JSON there instead of bench/results")
    opts = parser.parse_args(argv)
    try:
        torch = _torch()
    except ImportError:
        print("bench/gpu.py: skipped, torch is not installed (pip install 'bounded-entries[torch]')")
        return
    if opts.device is None and not torch.cuda.is_available():
        print("bench/gpu.py: skipped, no CUDA device (--device cpu forces a CPU run; --quick a smoke run)")
        return
    device = opts.device or "cuda"
    if opts.results_dir:
        _results.RESULTS_DIR = Path(opts.results_dir)
    name = opts.results or ("gpu_quick" if opts.quick else "gpu")
    ds, Bs, logs = ((4,), (1.0,), (8, 9)) if opts.quick else ((4, 8, 16), (0.5, 1.0, 2.0), range(12, 21))
    opts.sdpa_fp32_max = 2**18
    tensor_n = 64 if opts.quick else 4096
    gpu = torch.cuda.get_device_name(0) if device.startswith("cuda") else "none (CPU run)"
    print(f"device: {device}, GPU: {gpu}, torch {torch.__version__}, numpy {np.__version__}")
    command = "python bench/gpu.py" + (" " + " ".join(sys.argv[1:]) if argv is None else " " + " ".join(argv))
    start, db, state = time.perf_counter(), [], dict(sdpa_times={})
    extra = dict(gpu=gpu, torch=torch.__version__, device=device)
    skipped = []
    for d in ds:
        for k in logs:
            for B in Bs:
                if time.perf_counter() - start > opts.budget:
                    skipped.append((d, B, 2**k))
                    continue
                row = run_config(d, B, 2**k, device, state, opts)
                db.append(row)
                _results.save_results(name, command, dict(attention=db, skipped=skipped), **extra)
    print_table(db, opts.backward)
    if skipped:
        print(f"\nskipped past the {opts.budget:g} s budget: {len(skipped)} configurations, e.g. {skipped[:3]}")
    tens = tensor_rows(device, tensor_n, opts)
    print(f"\ntensor attention, d = 4, n = {tensor_n}: exact (torch fp32, 64-query blocks) {tens['exact_ms']:.4g} ms "
          f"({tens['exact_gflops']:.3g} GFLOP/s)" + (f", forward+backward {tens['exact_fb_ms']:.4g} ms"
                                                    if "exact_fb_ms" in tens else ""))
    for key in ("fast_fp32", "fast_fp64"):
        e = tens[key]
        if "ms" in e:
            print(f"  {key}: eps {e['eps']:g}, {e['ms']:.4g} ms ({tens['exact_ms'] / e['ms']:.3g}x), max error "
                  f"{e['err']:.1e}" + (f", forward+backward {e['fb_ms']:.4g} ms" if "fb_ms" in e else ""))
        else:
            print(f"  {key}: {e['skipped']}")
    path = _results.save_results(name, command, dict(attention=db, skipped=skipped, tensor=tens), **extra)
    print(f"\nwritten: {path} ({time.perf_counter() - start:.1f} s in all)")


if __name__ == "__main__":
    main()

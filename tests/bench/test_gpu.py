"""Issue 12: bench/gpu.py runs end to end on the CPU in its tiny ``--quick --device cpu`` mode (no GPU needed)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[2]


def test_gpu_bench_quick_cpu_run_prints_the_tables_and_writes_json(tmp_path):
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "gpu.py"), "--device", "cpu", "--quick", "--results-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    out = run.stdout
    for text in ("GPU: none (CPU run)", "torch ", "sdpa_bf16", "favor", "crossover", "tensor attention, d = 4",
                 "GFLOP/s", "forward+backward"):
        assert text in out
    data = json.loads((tmp_path / "gpu_quick.json").read_text())
    assert data["device"] == "cpu" and data["torch"].startswith("2.")
    rows = data["data"]["attention"]
    assert [r["n"] for r in rows] == [256, 512]
    for r in rows:
        fast = r["fast_fp64"]
        assert fast["eps"] == 1e-6 and fast["err"] <= 1e-6 and fast["ms"] > 0 and fast["fb_ms"] > 0
        assert r["fast_fp32"]["err"] <= r["fast_fp32"]["eps"]  # float32 at the eps float32 certifies
        assert r["favor"]["m"] in (64, 128, 256, 512, 1024, 2048, 4096)
    assert data["data"]["tensor"]["fast_fp64"]["err"] <= 1e-6

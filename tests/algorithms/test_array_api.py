"""Issue 12: the fast paths in any Array-API namespace, checked against the numpy results.

Every fast entry point is run on numpy float64 and on the same data as
``array-api-strict`` arrays (the standard and nothing else) and as torch CPU
tensors; the outputs must agree with numpy's to rounding, keep the caller's
array type and dtype, and their certified bounds must be the same numbers.
float32 is certified with float32's rounding and refused, naming the dtype,
where that cannot reach ``eps``.
"""

import subprocess
import sys

import numpy as np
import pytest

from algorithms.attention import (
    attention,
    attention_fast,
    attention_loss_grad_error_bound,
    attention_loss_grad_fast,
    attention_vjp,
    attention_vjp_error_bound,
    attention_vjp_fast,
)
from algorithms.polynomial_method import Float32Limit, monomials
from algorithms.tensor_attention import (
    tensor_attention,
    tensor_attention_loss_grad_error_bound,
    tensor_attention_loss_grad_fast,
    tensor_attention_vjp,
    tensor_attention_vjp_error_bound,
    tensor_attention_vjp_fast,
)


def _strict():
    xs = pytest.importorskip("array_api_strict")
    return xs.asarray, lambda a: np.asarray(a), "array_api_strict"


def _torch():
    torch = pytest.importorskip("torch")
    return torch.asarray, lambda a: a.detach().cpu().numpy(), "torch"


@pytest.fixture(params=["strict", "torch"])
def lib(request):
    return _strict() if request.param == "strict" else _torch()


def _same(ours, reference, back, module, rtol=1e-10):
    assert type(ours).__module__.split(".")[0] == module
    np.testing.assert_allclose(back(ours), reference, rtol=rtol, atol=1e-13)


def test_matrix_attention_forward_vjp_and_loss_gradient_match_numpy(lib):
    to, back, module = lib
    rng = np.random.default_rng(0)
    Q, K, V, dO = (rng.uniform(-1, 1, (300, 4)) for _ in range(4))
    ref = attention(Q, K, V, method="fast")
    res = attention(to(Q), to(K), to(V), method="fast")
    _same(res.output, ref.output, back, module)
    assert (res.degree, res.rank, res.entry_error) == (ref.degree, ref.rank, ref.entry_error)
    np.testing.assert_allclose(res.error_bound, ref.error_bound, rtol=1e-12)
    for ours, theirs in zip(attention_vjp_fast(to(Q), to(K), to(V), to(dO)), attention_vjp_fast(Q, K, V, dO)):
        _same(ours, theirs, back, module)
    for ours, theirs in zip(attention_vjp_error_bound(to(Q), to(K), to(V), to(dO)), attention_vjp_error_bound(Q, K, V, dO)):
        _same(ours, theirs, back, module)
    A = [rng.uniform(-1, 1, (200, 3)) for _ in range(4)] + [0.9 * np.eye(3), rng.uniform(-1, 1, (3, 3))]
    _same(attention_loss_grad_fast(*map(to, A)), attention_loss_grad_fast(*A), back, module)
    _same(attention_loss_grad_error_bound(*map(to, A)), attention_loss_grad_error_bound(*A), back, module)


def test_tensor_attention_forward_vjp_and_loss_gradient_match_numpy(lib):
    to, back, module = lib
    rng = np.random.default_rng(1)
    args = [rng.uniform(-1, 1, (60, 3)) for _ in range(6)]
    ref = tensor_attention(*args[:5], method="fast")
    res = tensor_attention(*map(to, args[:5]), method="fast")
    _same(res.output, ref.output, back, module)
    np.testing.assert_allclose(res.error_bound, ref.error_bound, rtol=1e-12)
    for ours, theirs in zip(tensor_attention_vjp_fast(*map(to, args)), tensor_attention_vjp_fast(*args)):
        _same(ours, theirs, back, module)
    for ours, theirs in zip(tensor_attention_vjp_error_bound(*map(to, args)), tensor_attention_vjp_error_bound(*args)):
        _same(ours, theirs, back, module)
    A = [rng.uniform(-1, 1, (30, 2)) for _ in range(6)]
    Xf = tuple(rng.uniform(-1, 1, (2, 2)) for _ in range(3))
    Yf = tuple(rng.uniform(-1, 1, (2, 2)) for _ in range(2))
    conv = [to(a) for a in A], tuple(map(to, Xf)), tuple(map(to, Yf))
    _same(tensor_attention_loss_grad_fast(*conv[0], conv[1], conv[2]), tensor_attention_loss_grad_fast(*A, Xf, Yf),
          back, module)
    _same(tensor_attention_loss_grad_error_bound(*conv[0], conv[1], conv[2]),
          tensor_attention_loss_grad_error_bound(*A, Xf, Yf), back, module)


def test_monomials_are_the_same_in_every_namespace(lib):
    to, back, module = lib
    X = np.random.default_rng(2).uniform(-1, 1, (7, 3))
    _same(monomials(to(X), 4), monomials(X, 4), back, module, rtol=0)


@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_float32_is_kept_and_certified_in_float32(kind):
    rng = np.random.default_rng(3)
    Q, K, V, dO = (rng.uniform(-1, 1, (700, 4)) for _ in range(4))  # 700 keys: two float32 sub-blocks and a rest
    if kind == "numpy":
        to, back, f32 = (lambda a: a.astype(np.float32)), np.asarray, np.float32
    else:
        torch = pytest.importorskip("torch")
        to, back, f32 = (lambda a: torch.asarray(a, dtype=torch.float32)), (lambda a: a.numpy()), torch.float32
    exact = attention(Q, K, V)
    res = attention(to(Q), to(K), to(V), method="fast", eps=1e-3)
    assert res.output.dtype == f32 and res.precision == "float32"
    assert np.all(np.max(np.abs(back(res.output) - exact), axis=0) <= res.error_bound)
    res64 = attention(Q, K, V, method="fast", eps=1e-3)
    assert res.degree == res64.degree and res.entry_error - res64.entry_error > 1e-5  # float32 rounding, certified
    grads = attention_vjp_fast(to(Q), to(K), to(V), to(dO), eps=1e-3)
    bounds = attention_vjp_error_bound(to(Q), to(K), to(V), to(dO), eps=1e-3)
    for g, e, b in zip(grads, attention_vjp(Q, K, V, dO), bounds):
        assert g.dtype == f32 and np.all(np.abs(back(g) - e) <= back(b))
    with pytest.raises(Float32Limit, match="float32") as info:
        attention_fast(to(Q), to(K), to(V), eps=1e-6)
    assert info.value.dtype == "float32" and "pass float64 arrays" in str(info.value)


def test_float32_tensor_attention_within_its_bound():
    rng = np.random.default_rng(4)
    args = [rng.uniform(-1, 1, (300, 3)) for _ in range(6)]
    f32 = [a.astype(np.float32) for a in args]
    res = tensor_attention(*f32[:5], method="fast", eps=1e-2)
    assert res.output.dtype == np.float32
    assert np.all(np.max(np.abs(res.output - tensor_attention(*args[:5])), axis=0) <= res.error_bound)
    fast = tensor_attention_vjp_fast(*f32, eps=1e-2)
    for g, e, b in zip(fast, tensor_attention_vjp(*args[:6]), tensor_attention_vjp_error_bound(*f32, eps=1e-2)):
        assert g.dtype == np.float32 and np.all(np.abs(g - e) <= b)


def test_bad_non_numpy_inputs_raise_value_errors_naming_the_parameter():
    torch = pytest.importorskip("torch")
    one = torch.ones((3, 2), dtype=torch.float64)
    with pytest.raises(ValueError, match="V must be finite"):
        attention_fast(one, one, torch.full((3, 2), float("nan"), dtype=torch.float64))
    with pytest.raises(ValueError, match="K must be a real 2-d array"):
        attention_fast(one, torch.ones((3, 2), dtype=torch.complex128), one)
    with pytest.raises(ValueError, match="one library"):
        attention_fast(one, np.ones((3, 2)), one)
    with pytest.raises(ValueError, match="V must have 3 rows"):
        attention_fast(one, one, torch.ones((4, 2), dtype=torch.float64))
    with pytest.raises(ValueError, match="mpmath"):
        attention(one, one, one, method="fast", precision="mpmath")


def test_numpy_calls_never_import_array_api_compat():
    code = ("import sys, numpy as np; from algorithms.attention import attention_fast; "
            "attention_fast(np.ones((4, 2)), np.ones((4, 2)), np.ones((4, 2)), bound=1.0); "
            "print('array_api_compat' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_cuda_matches_cpu():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    rng = np.random.default_rng(5)
    Q, K, V = (rng.uniform(-1, 1, (5000, 4)) for _ in range(3))
    cpu = attention_fast(Q, K, V)
    gpu = attention_fast(*(torch.asarray(a, device="cuda") for a in (Q, K, V)))
    assert gpu.device.type == "cuda"
    np.testing.assert_allclose(gpu.cpu().numpy(), cpu, rtol=1e-9, atol=1e-12)

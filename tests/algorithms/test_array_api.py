"""Issue 12: the fast paths in any Array-API namespace, checked against the numpy results.

Every fast entry point (matrix, tensor and poly-attention, the transformer's
fast mode) is run on numpy float64 and on the same data as
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

from algorithms._einsum import contract
from algorithms.attention import (
    attention,
    attention_fast,
    attention_loss_grad_error_bound,
    attention_loss_grad_fast,
    attention_vjp,
    attention_vjp_error_bound,
    attention_vjp_fast,
)
from algorithms.error_bounds import output_error, rounding_output_error, value_spread
from algorithms.poly_attention import path_attention, poly_attention_exact, poly_attention_fast, strassen_attention
from algorithms.polynomial_method import Float32Limit, LowRankOperator, approximate_exp, monomials
from algorithms.tensor_attention import (
    tensor_attention,
    tensor_attention_loss_grad_error_bound,
    tensor_attention_loss_grad_fast,
    tensor_attention_vjp,
    tensor_attention_vjp_error_bound,
    tensor_attention_vjp_fast,
)
from algorithms.transformer import (
    TransformerConfig,
    backward,
    forward,
    head_forward,
    init_params,
    loss_and_grad,
    lowrank_product,
)
from algorithms.transformer.model import LayerParams


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
            "from algorithms.poly_attention import poly_attention_fast, strassen_attention; "
            "from algorithms.transformer import TransformerConfig, init_params, loss_and_grad; "
            "attention_fast(np.ones((4, 2)), np.ones((4, 2)), np.ones((4, 2)), bound=1.0); "
            "poly_attention_fast(strassen_attention(), [np.ones((4, 2))] * 3, [np.ones((4, 1))] * 2); "
            "p = init_params(TransformerConfig(d=2, heads=1, d_head=2, d_ff=2, layers=1, d_out=1), 0); "
            "loss_and_grad(p, np.ones((4, 2), dtype=np.float32), np.ones((4, 1)), method='fast', eps=1e-3); "
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


# ---------------------------------------------------------------------------- poly-attention
@pytest.mark.parametrize("h", [path_attention(2), strassen_attention()], ids=["tree", "network"])
def test_poly_attention_fast_matches_numpy(lib, h):
    to, back, module = lib
    rng = np.random.default_rng(6)
    Xs, Vs = [rng.uniform(-1, 1, (40, 2)) for _ in range(h.t)], [rng.normal(size=(40, 2)) for _ in range(h.t - 1)]
    ref = poly_attention_fast(h, Xs, Vs, eps=1e-6)
    res = poly_attention_fast(h, [to(X) for X in Xs], [to(V) for V in Vs], eps=1e-6)
    _same(res.output, ref.output, back, module)
    assert (res.method, res.degrees, res.ranks, res.entry_error) == (ref.method, ref.degrees, ref.ranks, ref.entry_error)
    np.testing.assert_allclose(res.error_bound, ref.error_bound, rtol=1e-12)


@pytest.mark.parametrize("expr, shapes", [
    ("ab,bc->ac", [(3, 4), (4, 5)]),
    ("ax,bx,ay,by,bz->az", [(5, 3), (6, 3), (5, 2), (6, 2), (6, 4)]),  # b meets three operands: a batch step
    ("ax,bx,cx,bz,cz->az", [(4, 3), (4, 3), (4, 3), (4, 2), (4, 2)]),
])
def test_generic_contraction_steps_equal_numpy_einsum(lib, expr, shapes):
    to, back, module = lib
    rng = np.random.default_rng(7)
    arrays = [rng.normal(size=s) for s in shapes]
    expected = np.einsum(expr, *arrays)
    np.testing.assert_allclose(contract(np, expr, *arrays, generic=True), expected, rtol=1e-12)
    import array_api_compat
    xp = array_api_compat.array_namespace(to(arrays[0]))
    _same(contract(xp, expr, *map(to, arrays)), expected, back, module, rtol=1e-12)


@pytest.mark.parametrize("kind", ["numpy", "torch"])
@pytest.mark.parametrize("h", [path_attention(2), strassen_attention()], ids=["tree", "network"])
def test_float32_poly_attention_within_its_bound(kind, h):
    rng = np.random.default_rng(8)
    Xs, Vs = [rng.uniform(-1, 1, (300, 2)) for _ in range(h.t)], [rng.normal(size=(300, 2)) for _ in range(h.t - 1)]
    if kind == "numpy":
        to, back, f32 = (lambda a: a.astype(np.float32)), np.asarray, np.float32
    else:
        torch = pytest.importorskip("torch")
        to, back, f32 = (lambda a: torch.asarray(a, dtype=torch.float32)), (lambda a: a.numpy()), torch.float32
    exact = poly_attention_exact(h, Xs, Vs).output
    res = poly_attention_fast(h, [to(X) for X in Xs], [to(V) for V in Vs], eps=1e-3)
    assert res.output.dtype == f32 and res.precision == "float32" and res.entry_error <= 1e-3
    assert np.all(np.max(np.abs(back(res.output) - exact), axis=0) <= res.error_bound)
    res64 = poly_attention_fast(h, Xs, Vs, eps=1e-3)
    assert res.entry_error - res64.entry_error > 1e-6  # float32 rounding, certified
    with pytest.raises(Float32Limit, match="float32") as info:
        poly_attention_fast(h, [to(X) for X in Xs], [to(V) for V in Vs], eps=1e-7)
    assert "pass float64 arrays" in str(info.value)


# ---------------------------------------------------------------------------- transformer
def _model(layer_norm=True, d_out=3):
    cfg = TransformerConfig(d=6, heads=2, d_head=3, d_ff=8, layers=2, d_out=d_out, layer_norm=layer_norm)
    params = init_params(cfg, np.random.default_rng(9))
    for layer in params.layers:  # biases off zero, so that their gradients are exercised
        layer.b_1 += 0.1
        layer.b_2 -= 0.1
    return params


def _grads(G, back):
    return [back(getattr(layer, name)) for layer in G.layers for name in LayerParams.__dataclass_fields__] + [
        back(G.W_out)]


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_transformer_fast_forward_and_gradients_match_numpy(lib, loss):
    to, back, module = lib
    params, rng = _model(), np.random.default_rng(10)
    X = rng.uniform(-1, 1, (150, 6))
    target = rng.integers(0, 3, 150) if loss == "cross_entropy" else rng.normal(size=(150, 3))
    Y, cache = forward(params, X, method="fast")
    Yx, cachex = forward(params, to(X), method="fast")
    _same(Yx, Y, back, module)
    assert cachex.entry_error == cache.entry_error <= 1e-6
    grads, dX = backward(params, cache, Y)
    gradsx, dXx = backward(params, cachex, Yx)
    _same(dXx, dX, back, module)
    for ours, theirs in zip(_grads(gradsx, back), _grads(grads, np.asarray)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-13)
    value, G = loss_and_grad(params, X, target, loss=loss, method="fast")
    valuex, Gx = loss_and_grad(params, to(X), target, loss=loss, method="fast")  # numpy targets travel to X
    assert valuex == pytest.approx(value, rel=1e-12) and type(Gx.W_out).__module__.split(".")[0] == module
    for ours, theirs in zip(_grads(Gx, back), _grads(G, np.asarray)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_float32_transformer_is_certified_in_float32(kind):
    params, rng = _model(), np.random.default_rng(11)
    X = rng.uniform(-1, 1, (300, 6))
    if kind == "numpy":
        to, back, f32 = (lambda a: a.astype(np.float32)), np.asarray, np.float32
    else:
        torch = pytest.importorskip("torch")
        to, back, f32 = (lambda a: torch.asarray(a, dtype=torch.float32)), (lambda a: a.numpy()), torch.float32
    Y, cache = forward(params, to(X), method="fast", eps=1e-3)
    Y64, cache64 = forward(params, X, method="fast", eps=1e-3)
    assert Y.dtype == f32 and cache64.entry_error < cache.entry_error <= 1e-3
    grads, dX = backward(params, cache, to(np.ones((300, 3))))
    assert dX.dtype == f32 and all(g.dtype == f32 for g in (grads.W_out, grads.layers[0].W_Q))
    # one head of layer 1 against the exact head on the same float32 inputs: within (E1) and its rounding
    hc = cache.layers[0].heads[0]
    exact, _ = head_forward(*(back(A).astype(float) for A in (hc.Q, hc.K, hc.V)))
    V = back(hc.V).astype(float)
    bound = output_error(hc.entry_error, value_spread(V)) + rounding_output_error(
        hc.entry_error, hc.approximation.sampled_error, np.max(np.abs(V), axis=0), 2.0**-24)
    assert np.all(np.max(np.abs(back(hc.O) - exact), axis=0) <= bound)
    with pytest.raises(Float32Limit, match="float32") as info:
        forward(params, to(X), method="fast", eps=1e-6)
    assert info.value.dtype == "float32" and "pass float64 arrays" in str(info.value)


def test_bad_non_numpy_poly_and_transformer_inputs_raise_value_errors_naming_the_parameter():
    torch = pytest.importorskip("torch")
    h, one = strassen_attention(), torch.ones((4, 2), dtype=torch.float64)
    with pytest.raises(ValueError, match=r"Vs\[1\] \(V\^\(3\)\) must be finite"):
        poly_attention_fast(h, [one] * 3, [one, torch.full((4, 2), float("nan"), dtype=torch.float64)])
    with pytest.raises(ValueError, match="one library"):
        poly_attention_fast(h, [one] * 3, [one, np.ones((4, 2))])
    with pytest.raises(ValueError, match="row counts"):
        poly_attention_fast(h, [one, one, torch.ones((5, 2), dtype=torch.float64)], [one, one])
    params = _model()
    with pytest.raises(ValueError, match="X must have 6 columns"):
        forward(params, torch.ones((4, 5), dtype=torch.float64), method="fast")
    Y, cache = forward(params, torch.ones((4, 6), dtype=torch.float64), method="fast")
    with pytest.raises(ValueError, match="one library"):
        backward(params, cache, np.ones((4, 3)))
    with pytest.raises(ValueError, match="dY must be finite"):
        backward(params, cache, torch.full((4, 3), float("inf"), dtype=torch.float64))
    with pytest.raises(ValueError, match="block must be a positive integer"):
        forward(params, torch.ones((4, 6), dtype=torch.float32), method="fast", eps=1e-3, block=0)
    with pytest.raises(ValueError, match="labels must lie in"):
        loss_and_grad(params, torch.ones((4, 6), dtype=torch.float64), [0, 1, 2, 3], loss="cross_entropy", method="fast")
    with pytest.raises(ValueError, match="H must be an array of the factors' library"):
        lowrank_product(LowRankOperator(one, (one,), approximate_exp(1.0, 2, 1e-6)), np.ones((4, 1)))
    with pytest.raises(ValueError, match="Q must be a real"):
        head_forward(torch.ones((3, 2), dtype=torch.complex128), one[:3], one[:3], approximation=approximate_exp(1.0, 2, 1e-6))

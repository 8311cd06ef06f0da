"""The error algebra: each bound against the quantity it bounds, on random and extremal inputs."""

import numpy as np
import pytest

from algorithms.error_bounds import (
    eta,
    gamma,
    output_error,
    product_entry_error,
    value_product_range,
    value_spread,
)


def test_eta_bounds_the_relative_error_of_normalised_weights():
    rng = np.random.default_rng(0)
    e = 1e-3
    for _ in range(50):
        w = rng.random(7)
        perturbed = w * (1 + rng.uniform(-e, e, 7))
        ratio = (perturbed / perturbed.sum()) / (w / w.sum())
        assert np.max(np.abs(ratio - 1)) <= eta(e)


def test_output_error_E1_holds_and_is_attained_by_two_values():
    rng = np.random.default_rng(1)
    e = 1e-2
    for _ in range(200):
        w, v = rng.random(5), rng.uniform(-1, 3, 5)
        perturbed = w * (1 + rng.uniform(-e, e, 5))
        moved = abs(perturbed @ v / perturbed.sum() - w @ v / w.sum())
        assert moved <= output_error(e, v.max() - v.min()) + 1e-15
    # two values, +e on the larger and -e on the smaller, best weight a: the bound is sharp
    a = 1 / (1 + np.sqrt((1 + e) / (1 - e)))
    worst = a * (1 + e) / (a * (1 + e) + (1 - a) * (1 - e)) - a
    assert worst == pytest.approx(output_error(e, 1.0), rel=1e-12)


def test_value_spread_is_the_range_of_every_product():
    rng = np.random.default_rng(2)
    V1, V2 = rng.normal(size=(6, 3)), rng.normal(size=(5, 3))
    products = (V1[:, None, :] * V2[None, :, :]).reshape(-1, 3)
    np.testing.assert_allclose(value_spread(V1, V2), products.max(0) - products.min(0))
    lo, hi = value_product_range([V1])
    np.testing.assert_array_equal(hi - lo, value_spread(V1))


def test_product_entry_error_covers_both_signs():
    errors = [1e-3, 2e-3, 5e-4]
    e = product_entry_error(errors)
    assert e >= np.prod(1 + np.array(errors)) - 1 and e >= 1 - np.prod(1 - np.array(errors))
    assert gamma(0) == 0.0 and 0 < gamma(10) < 1e-14


def test_output_error_rejects_entry_error_outside_unit_interval():
    for e in (-0.1, 1.0, 2.0):
        with pytest.raises(ValueError, match="entry_error must lie in"):
            output_error(e, 1.0)


def test_spreads_and_bounds_of_overflowing_value_products_are_never_nan():
    """Products 1e300 * 1e150 overflow to one infinity at both ends (spread inf - inf), and 0 * inf corners
    appeared: poly-attention's error bound was NaN (fuzz suite); an unknown spread is infinite, an exact 0 stays 0."""
    from algorithms.error_bounds import output_error, value_product_range, value_spread

    Vs = [np.array([[1e300, 0.0]]), np.array([[-1e150, 1e150]])]
    assert value_spread(*Vs).tolist() == [np.inf, 0.0]
    lo, hi = value_product_range([np.array([[0.0], [1e300]]), np.array([[1e300]])])
    assert lo.tolist() == [0.0] and hi.tolist() == [np.inf]
    assert float(output_error(0.0, np.inf)) == 0.0

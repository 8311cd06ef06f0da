"""The two losses of the transformer's read-out, with ``dL/dY``, in the namespace of ``Y``.

* mean squared error ``L = (1/2n) ||Y - target||_F^2``, ``dL/dY = (Y - target)/n``;
* mean cross-entropy of ``softmax(Y_i)`` against integer labels ``c_i``,
  ``L = -(1/n) sum_i log p_i(c_i)``, ``dL/dY = (p - onehot(c))/n`` (the row
  maximum subtracted before ``exp``).

numpy arrays are computed as always (float64); torch, CuPy or any Array-API
``Y`` (what the fast transformer returns for such inputs,
:mod:`algorithms.transformer.network`) stays in its library, device and
dtype, numpy float32 stays float32.  The loss value is a Python float.

References
----------
.. [1] Y. Liang, Z. Sha, Z. Shi, Z. Song, Y. Zhou. Multi-layer transformers
   gradient can be approximated in almost linear time. arXiv:2408.13233, Def. 1.3.
"""

from __future__ import annotations

import numpy as np

from algorithms import _array
from algorithms._checks import as_fast_matrices

__all__ = ["mse_loss", "cross_entropy_loss", "LOSSES"]


def mse_loss(Y, target) -> tuple[float, np.ndarray]:
    """``L = (1/2n) ||Y - target||_F^2`` and ``dL/dY``.

    Raises
    ------
    ValueError
        If the arrays are not finite or their shapes differ.

    Examples
    --------
    >>> mse_loss(np.array([[1.0], [3.0]]), np.zeros((2, 1)))[0]
    2.5
    """
    xp = _array.namespace(Y)
    if not _array.is_numpy(xp) and isinstance(target, (np.ndarray, list, tuple)):  # host targets travel to Y
        target = _array.from_numpy(xp, as_fast_matrices(("target", target))[1][0], Y)
    xp, (Y, target) = as_fast_matrices(("Y", Y), ("target", target, ("rows", 0), ("cols", 0)))
    diff = Y - target
    n = int(Y.shape[0])
    return float(0.5 * xp.sum(diff**2) / n), diff / n


def _labels(xp, labels, Y):
    """``labels`` as an integer vector of ``Y``'s namespace and device (numpy: as given)."""
    if _array.is_numpy(xp):
        return np.asarray(labels)
    if isinstance(labels, (np.ndarray, list, tuple)):
        labels = np.asarray(labels)
        if not np.issubdtype(labels.dtype, np.integer):
            return labels
        return xp.asarray(labels, device=_array.device(Y))
    return labels


def cross_entropy_loss(Y, labels) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of ``softmax(Y_i)`` against integer ``labels`` and ``dL/dY``.

    Raises
    ------
    ValueError
        If ``Y`` is not finite 2-d, or ``labels`` is not an integer vector of
        length ``n`` with entries in ``[0, d_out)``.

    Examples
    --------
    >>> round(cross_entropy_loss(np.zeros((2, 4)), np.array([0, 3]))[0], 6)  # log 4
    1.386294
    """
    xp, (Y,) = as_fast_matrices(("Y", Y))
    labels = _labels(xp, labels, Y)
    n, k = int(Y.shape[0]), int(Y.shape[1])
    integral = (np.issubdtype(labels.dtype, np.integer) if isinstance(labels, np.ndarray)
                else "int" in str(getattr(labels, "dtype", "")))
    if tuple(getattr(labels, "shape", ())) != (n,) or not integral:
        raise ValueError(f"labels must be an integer vector of length {n}, got {getattr(labels, 'dtype', type(labels))} "
                         f"{tuple(getattr(labels, 'shape', ()))}")
    low, high = int(xp.min(labels)), int(xp.max(labels))
    if low < 0 or high >= k:
        raise ValueError(f"labels must lie in [0, {k}), got range [{low}, {high}]")
    shifted = Y - xp.max(Y, axis=1, keepdims=True)
    log_p = shifted - xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))
    if _array.is_numpy(xp):
        dY = np.exp(log_p)
        dY[np.arange(n), labels] -= 1.0
        return float(-log_p[np.arange(n), labels].mean()), dY / n
    onehot = xp.reshape(labels, (n, 1)) == xp.reshape(xp.arange(k, device=_array.device(Y)), (1, k))
    chosen = xp.sum(xp.where(onehot, log_p, xp.zeros_like(log_p)))
    return float(-chosen / n), (xp.exp(log_p) - _array.astype(xp, onehot, Y.dtype)) / n


#: Loss name -> function, for :func:`algorithms.transformer.network.loss_and_grad`.
LOSSES = {"mse": mse_loss, "cross_entropy": cross_entropy_loss}

"""One randomness convention: ``rng: int | numpy.random.Generator | None``.

Every function that draws random numbers takes ``rng`` and passes it through
:func:`as_generator`, i.e. ``numpy.random.default_rng(rng)`` as NumPy
recommends: ``None`` draws fresh entropy, an integer is a seed (the same
integer gives the same draw), and a ``Generator`` is used as it is (its state
advances).  Functions that took ``seed=`` keep it as an alias of ``rng``.

Examples
--------
>>> bool(as_generator(0).integers(100) == as_generator(0).integers(100))
True
>>> g = np.random.default_rng(1)
>>> as_generator(g) is g
True
>>> bool(as_generator(None, seed=3).integers(100) == as_generator(3).integers(100))
True
>>> as_generator(1.5)
Traceback (most recent call last):
...
ValueError: rng must be None, a non-negative int or a numpy.random.Generator, got float
"""

from __future__ import annotations

from typing import Union

import numpy as np

__all__ = ["RandomLike", "as_generator"]

#: What a function's ``rng`` parameter accepts.
RandomLike = Union[int, np.random.Generator, None]


def as_generator(rng: RandomLike = None, *, seed: int | None = None, name: str = "rng") -> np.random.Generator:
    """``numpy.random.default_rng(rng)``, with ``seed`` accepted as an alias and bad input refused.

    Parameters
    ----------
    rng : int, numpy.random.Generator, SeedSequence, BitGenerator or None
    seed : int or None
        The older keyword; give ``rng`` or ``seed``, not both.
    name : the parameter's name in error messages.

    Returns
    -------
    numpy.random.Generator

    Raises
    ------
    ValueError
        If both ``rng`` and ``seed`` are given, or either is not ``None``, a
        non-negative integer or a numpy random object (a bool, a float, a
        string, a negative integer).
    """
    if seed is not None:
        if rng is not None:
            raise ValueError(f"give {name} or its alias seed, not both (got {name}={rng!r}, seed={seed!r})")
        rng, name = seed, "seed"
    if isinstance(rng, (np.random.Generator, np.random.SeedSequence, np.random.BitGenerator)) or rng is None:
        return np.random.default_rng(rng)
    if isinstance(rng, (bool, np.bool_)) or not isinstance(rng, (int, np.integer)):
        raise ValueError(f"{name} must be None, a non-negative int or a numpy.random.Generator, "
                         f"got {type(rng).__name__}")
    if rng < 0:
        raise ValueError(f"{name} must be a non-negative int, got {int(rng)}")
    return np.random.default_rng(int(rng))

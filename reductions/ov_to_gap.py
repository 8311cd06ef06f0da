"""OV -> gap max-IP (and 3-OV -> gap 3-max-IP) by a Merlin-Arthur protocol for set disjointness.

Aaronson & Wigderson's MA protocol, in the form Abboud, Rubinstein & Williams
use for their distributed PCPs (see docs/reductions.md).  Take ``x, y`` in
``{0,1}^m``, pad them with zeros to ``T K`` coordinates (``K = ceil(m/T)``)
and index coordinate ``l = k T + (t - 1)`` by ``(t, k)``, ``1 <= t <= T``,
``0 <= k < K``.  Over a prime field ``F_q`` with ``q > m`` and ``q > 2T - 2``:

* ``A_k, B_k`` in ``F_q[z]``, degree ``< T``, interpolate ``t -> x(t, k)``
  and ``t -> y(t, k)`` at ``t = 1..T``;
* ``C*_{xy} = sum_k A_k B_k`` has degree ``<= 2T - 2`` and
  ``sum_{t=1..T} C*_{xy}(t) = sum_{t,k} x(t,k) y(t,k) = |x n y|  (mod q)``;
* Merlin's advice is any ``C`` of degree ``<= 2T - 2`` with ``sum_{t=1..T}
  C(t) = 0 (mod q)``;
* Alice's vector ``u_x[r, alpha] = [alpha = (A_k(r))_k]`` and Bob's vector
  ``v_{y,C}[r, alpha] = [C(r) = sum_k alpha_k B_k(r)]``, over ``r`` in
  ``F_q`` and ``alpha`` in ``F_q^K``: dimension ``q^{K+1}``, ``u_x`` has
  exactly ``q`` ones (one per ``r``), ``v_{y,C}`` has ``q^{K-1}`` per ``r``
  with ``(B_k(r))_k != 0`` (``0`` or ``q^K`` otherwise: not constant weight).

Then ``<u_x, v_{y,C}> = #{r in F_q : C(r) = C*_{xy}(r)}``: for each ``r`` only
``alpha = (A_k(r))_k`` can contribute, and it does iff ``C(r) = sum_k A_k(r)
B_k(r)``.  One gap max-IP instance per advice ``C``, thresholds ``t_lo = 2T -
2``, ``t_hi = q``:

* **Completeness.**  If ``x_i`` is orthogonal to ``y_j``, ``C = C*_{ij}`` is an
  advice (degree ``<= 2T - 2``, sum ``|x_i n y_j| = 0``), and in its instance
  ``<u_i, v_{j,C}> = q``.
* **Soundness.**  If no pair is orthogonal, then for every pair ``1 <= |x_i n
  y_j| <= m < q``, so ``sum_t C*_{ij}(t) != 0`` and no advice equals
  ``C*_{ij}``; two distinct polynomials of degree ``<= 2T - 2`` agree on at
  most ``2T - 2`` points, so every pair in every instance has ``<u, v> <= 2T -
  2``.  (The same argument gives the decoder: ``<u_i, v_{j,C}> > 2T - 2`` forces
  ``C = C*_{ij}``, hence ``|x_i n y_j| = 0 (mod q)``, hence ``x_i`` orthogonal
  to ``y_j``.)

So OV is the OR over the ``q^{2T-2}`` instances (degree ``<= 2T - 2`` gives
``q^{2T-1}`` polynomials and the sum is one nonzero linear condition, as ``q >
T``).  Three parties (3-OV, tensor attention): ``C* = sum_k A_k B_k C_k``,
degree ``<= 3T - 3``, ``q > 3T - 3``; ``u[r, alpha, beta] = [alpha = A(r)]``,
``v[r, alpha, beta] = [beta = B(r)]``, ``w_C[r, alpha, beta] = [C(r) = sum_k
alpha_k beta_k C_k(r)]``, dimension ``q^{2K+1}``, ``q^{3T-3}`` instances, gap
``3T - 3`` vs ``q``.  In general ``k`` parties: degree ``D = k(T-1)``,
dimension ``q^{(k-1)K+1}``, ``q^D`` instances.

Blow-up (symbolic in :func:`family_sizes`, checked against the arrays by the
tests): ``N_a, N_b`` (``N_c``) vectors per instance, as in the OV instance.
The default ``T`` minimises the total size ``q^{D + (k-1)K + 1}`` over ``1 <=
T <= floor(m/k) + 1`` (where ``q = nextprime(m)`` is fixed), ties to the
larger ``T``; the default ``q`` is the smallest prime ``> max(m, D)``.  E.g. ``m = 4``: ``k = 2`` gives
``T = 2, K = 2, q = 5``: 25 instances of dimension 125; ``k = 3`` gives 125
instances of dimension 3125.

What this reaches.  With ``m = c log N``, ``q ~ m`` and ``T ~ sqrt(m)``, the
dimension ``q^{K+1} = m^{Theta(sqrt m)}`` is ``N^{o(1)}`` but not ``O(log
N)``, and the number of instances is ``N^{o(1)}`` too: a valid fine-grained
reduction from OV to gap max-IP, but in the ``1/d`` convention of
:func:`~reductions.gap_to_attention.gap_to_attention` its attention entries are
``sqrt(q^{K+1} ln(4N) / (q - 2T + 2))``, not ``Theta(sqrt(log n))`` (the
logit range is ``Theta(log n)``: see :mod:`reductions.sat_via_gap`).
Rubinstein's algebraic-geometry-code version reaches dimension ``O(log N)``;
it is cited, not built.  Feasible sizes are tiny (``m <= ~6``).

References
----------
.. [1] S. Aaronson, A. Wigderson. Algebrization: a new barrier in complexity
   theory. ACM TOCT 1(1), 2009 (an MA protocol for disjointness, O(sqrt(m) log m) bits).
.. [2] A. Abboud, A. Rubinstein, R. Williams. Distributed PCP theorems for
   hardness of approximation in P. FOCS 2017, arXiv:1706.06407.
.. [3] A. Rubinstein. Hardness of approximate nearest neighbor search. STOC
   2018, arXiv:1803.00904 (algebraic-geometry codes: dimension O(log N)).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import sympy

from reductions.finite_field import (
    check_prime,
    evaluate,
    interpolate,
    lagrange_basis,
    next_prime,
    power_sums,
)
from reductions.gap_to_attention import Gap3Instance, GapInstance
from reductions.ov import KOVInstance, OVInstance, as_binary

__all__ = ["GapFamily", "default_parameters", "family_sizes", "ov_to_gap", "kov_to_gap3", "MAX_ENTRIES"]

MAX_ENTRIES = 5 * 10**7  # default cap on sum_p N_p * dimension, the 0/1 entries of one instance


def _check_T(T) -> int:
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 1:
        raise ValueError(f"T must be an integer >= 1, got {T!r}")
    return int(T)


def default_parameters(m: int, k: int = 2, T: int | None = None, q: int | None = None) -> tuple[int, int, int]:
    """``(T, K, q)`` for dimension ``m`` and ``k`` parties: the defaults, or the given values checked.

    Default ``T``: the largest minimiser of ``k(T-1) + (k-1) ceil(m/T)`` over
    ``1 <= T <= floor(m/k) + 1`` (with ``q`` given: over ``k(T-1) < q``);
    default ``q``: the smallest prime ``> max(m, k(T-1))``.

    Raises
    ------
    ValueError
        ``T`` not an integer ``>= 1``; ``q`` not prime, ``q <= m`` or ``q <=
        k(T - 1)`` (then there is no gap: ``t_hi = q <= t_lo``).

    Examples
    --------
    >>> default_parameters(4), default_parameters(4, k=3), default_parameters(6, T=3)
    ((2, 2, 5), (2, 2, 5), (3, 2, 7))
    >>> default_parameters(4, T=4, q=5)
    Traceback (most recent call last):
    ...
    ValueError: q=5 must exceed k(T-1) = 6 (the degree of C*), else there is no gap (t_hi = q <= t_lo = 6)
    """
    if T is None:  # minimise k(T-1) + (k-1)ceil(m/T); past T = 4 sqrt(m) + 8 it only grows
        Ts = np.arange(1, min(m // k + 1, 4 * math.isqrt(m) + 8) + 1)
        if q is not None and isinstance(q, (int, np.integer)):
            Ts = Ts[k * (Ts - 1) < q] if q > 0 else Ts[:1]
        exponent = k * (Ts - 1) + (k - 1) * -(-m // Ts) + 1
        T = int(Ts[np.flatnonzero(exponent == exponent.min())[-1]])
    T = _check_T(T)
    if q is None:
        q = next_prime(max(m, k * (T - 1)))
    q = check_prime(q)
    if q <= m:
        raise ValueError(f"q={q} must exceed m={m}: |x n y| in 1..m must stay nonzero mod q")
    if q <= k * (T - 1):
        raise ValueError(f"q={q} must exceed k(T-1) = {k * (T - 1)} (the degree of C*), else there is "
                         f"no gap (t_hi = q <= t_lo = {k * (T - 1)})")
    return T, -(-m // T), q


def family_sizes(k: int = 2) -> dict[str, sympy.Expr]:
    """Sizes of the ``k``-party family as sympy expressions in plain symbols ``N_a, N_b, (N_c), m, T, K, q``.

    Keys: ``K`` (``ceiling(m/T)``), ``degree`` (``D = k(T-1)``), ``instances``
    (``q^D``), ``dimension`` (``q^{(k-1)K+1}``), ``t_lo`` (``D``), ``t_hi``
    (``q``), ``gap``, ``weight_1`` (ones per vector of the first party:
    ``q^{(k-2)K+1}``), ``entries`` (0/1 entries of one instance), ``total``
    (entries of all instances).

    Examples
    --------
    >>> s = family_sizes(2)
    >>> s["instances"], s["dimension"], s["gap"]
    (q**(2*T - 2), q**(K + 1), -2*T + q + 2)
    >>> family_sizes(3)["dimension"].subs({"K": 2, "q": 5})
    3125
    """
    if k not in (2, 3):
        raise ValueError(f"k must be 2 or 3, got {k!r}")
    m, T, K, q = sympy.symbols("m T K q")
    Ns = sympy.symbols(("N_a", "N_b", "N_c")[:k])
    D = sympy.expand(k * (T - 1))
    dimension = q ** ((k - 1) * K + 1)
    return {"K": sympy.ceiling(m / T), "degree": D, "instances": q**D, "dimension": dimension, "t_lo": D,
            "t_hi": q, "gap": q - D, "weight_1": q ** ((k - 2) * K + 1), "entries": sum(Ns) * dimension,
            "total": q**D * sum(Ns) * dimension}


@dataclass(frozen=True)
class GapFamily:
    """The lazy family of gap instances, one per advice ``C``, of a ``k``-party OV instance (``k = 2, 3``).

    Built by :func:`ov_to_gap` / :func:`kov_to_gap3`.  An advice is the tuple
    of the ``D + 1`` coefficients of ``C`` (constant first), ``D = k(T-1)``,
    with ``sum_{t=1..T} C(t) = 0 mod q``.  Coordinates of the instance vectors
    are ``r * q^{(k-1)K} + code(alpha)`` (``k = 3``: ``code(alpha) q^K +
    code(beta)``), ``code`` the base-``q`` number with ``alpha_0`` most significant.

    Attributes
    ----------
    sets : the ``k`` OV sets, 0/1 ``uint8`` arrays ``N_p x m``.
    T, K, q : block length, number of blocks, field size.
    evals : ``evals[p][i, r, k] = P^{(p)}_{i,k}(r)``: the parties' polynomials on ``F_q``.
    """

    sets: tuple[np.ndarray, ...]
    T: int
    q: int
    K: int = field(init=False)
    evals: tuple[np.ndarray, ...] = field(init=False, repr=False)
    _table: np.ndarray = field(init=False, repr=False)  # [j, r, code] = sum_k prod_p alpha^(p)_k P^last_{j,k}(r)
    _onehot: tuple[np.ndarray, ...] = field(init=False, repr=False)  # the advice-free parties' vectors
    _sums: np.ndarray = field(init=False, repr=False)  # power sums: C -> sum_t C(t) is c @ _sums

    def __post_init__(self) -> None:
        if len(self.sets) not in (2, 3):
            raise ValueError(f"GapFamily needs 2 or 3 sets, got {len(self.sets)}")
        sets = KOVInstance(tuple(self.sets)).sets
        k, m = len(sets), sets[0].shape[1]
        T, K, q = default_parameters(m, k, self.T, self.q)
        L = lagrange_basis(range(1, T + 1), q)  # (q, T): A_k(r) = sum_t L[r, t] x(t, k)
        evals = []
        for X in sets:
            Xp = np.zeros((X.shape[0], T * K), dtype=np.int64)
            Xp[:, :m] = X
            evals.append(np.einsum("rt,ikt->irk", L, Xp.reshape(X.shape[0], K, T)) % q)
        place = q ** np.arange(K - 1, -1, -1, dtype=np.int64)  # code(alpha) = alpha @ place
        alphas = np.arange(q**K, dtype=np.int64)[:, None] // place % q  # every alpha in F_q^K, by code
        grid = alphas
        for _ in range(k - 2):  # products alpha_k beta_k in the order code(alpha) q^K + code(beta)
            grid = (grid[:, None, :] * alphas[None, :, :]).reshape(len(grid) * len(alphas), K) % q
        table = np.einsum("gk,jrk->jrg", grid, evals[-1]) % q
        onehot = []
        for p, E in enumerate(evals[:-1]):  # alpha^(p) = (P_k(r))_k, any value of the other alphas
            codes = E @ place  # (N_p, q)
            U = np.zeros((E.shape[0], q) + (q**K,) * (k - 1), dtype=np.uint8)
            i, r = np.indices(codes.shape)
            index = [i, r] + [slice(None)] * (k - 1)
            index[2 + p] = codes
            U[tuple(index)] = 1
            U = U.reshape(E.shape[0], -1)
            U.flags.writeable = False
            onehot.append(U)
        table = table.astype(np.min_scalar_type(q - 1))
        for name, value in [("sets", sets), ("T", T), ("q", q), ("K", K), ("evals", tuple(evals)), ("_table", table),
                            ("_onehot", tuple(onehot)), ("_sums", power_sums(T, k * (T - 1), q))]:
            object.__setattr__(self, name, value)

    k = property(lambda self: len(self.sets), doc="Number of parties.")
    m = property(lambda self: self.sets[0].shape[1], doc="Dimension of the OV vectors.")
    degree = property(lambda self: self.k * (self.T - 1), doc="``D``: degree bound of ``C*`` and the advice.")
    num_instances = property(lambda self: self.q**self.degree, doc="``q^D``.")
    dimension = property(lambda self: self.q ** ((self.k - 1) * self.K + 1), doc="``q^{(k-1)K+1}``.")
    t_lo = property(lambda self: self.degree, doc="Every product ``<= D`` unless ``C = C*``.")
    t_hi = property(lambda self: self.q, doc="The product when ``C = C*``.")

    def advice(self) -> Iterator[tuple[int, ...]]:
        """All ``q^D`` advice polynomials, lazily: ``c_1..c_D`` in lexicographic order, ``c_0`` solved.

        ``c_0 = -T^{-1} sum_{e >= 1} c_e S_e`` with ``S_e = sum_t t^e``
        (``T`` is invertible as ``q > T``).
        """
        q, S = self.q, [int(s) for s in self._sums[1:]]
        inverse_T = pow(self.T, -1, q)
        for tail in itertools.product(range(q), repeat=self.degree):
            yield (-inverse_T * sum(c * s for c, s in zip(tail, S)) % q, *tail)

    def check_advice(self, advice) -> np.ndarray:
        """``advice`` as an ``int64`` coefficient vector, or ``ValueError`` if it is not one."""
        c = np.asarray(advice)
        if c.shape != (self.degree + 1,) or c.dtype.kind not in "iu" or np.any((c < 0) | (c >= self.q)):
            raise ValueError(f"advice must be {self.degree + 1} integers in 0..{self.q - 1}, got {advice!r}")
        c = c.astype(np.int64)
        if int(c @ self._sums) % self.q:
            raise ValueError(f"advice {tuple(int(v) for v in c)} has sum_(t=1..{self.T}) C(t) != 0 mod {self.q}")
        return c

    def vectors(self, advice) -> tuple[np.ndarray, ...]:
        """The ``k`` 0/1 matrices (``N_p x dimension``) of the instance of ``advice`` (the first ``k - 1`` read-only)."""
        C = evaluate(self.check_advice(advice), range(self.q), self.q).astype(self._table.dtype)
        last = (self._table == C[None, :, None]).view(np.uint8).reshape(self._table.shape[0], -1)
        return (*self._onehot, last)

    def instance(self, advice) -> GapInstance | Gap3Instance:
        """The gap max-IP (``k = 2``) or gap 3-max-IP (``k = 3``) instance of ``advice``."""
        cls = GapInstance if self.k == 2 else Gap3Instance
        return cls(*self.vectors(advice), self.t_lo, self.t_hi)

    def __iter__(self) -> Iterator[tuple[tuple[int, ...], GapInstance | Gap3Instance]]:
        """``(advice, instance)`` for every advice, generated one at a time."""
        return ((c, self.instance(c)) for c in self.advice())

    def _check_tuple(self, indices) -> tuple[int, ...]:
        t = tuple(int(i) for i in indices)
        if len(t) != self.k or any(not 0 <= i < X.shape[0] for i, X in zip(t, self.sets)):
            raise ValueError(f"expected {self.k} indices within {[X.shape[0] for X in self.sets]}, got {indices!r}")
        return t

    def honest_advice(self, indices) -> tuple[int, ...]:
        """Coefficients of ``C*`` for the tuple ``indices`` (Merlin's proof; an advice iff the tuple is orthogonal)."""
        t = self._check_tuple(indices)
        values = np.prod([E[i] for E, i in zip(self.evals, t)], axis=0).sum(axis=1) % self.q  # C*(r)
        nodes = range(self.degree + 1)
        return tuple(int(c) for c in interpolate(nodes, values[list(nodes)], self.q))

    def inner_product(self, advice, indices) -> int:
        """``#{r : C(r) = C*(r)}``, the inner product of ``indices`` in the instance of ``advice``, in ``O(q K)``."""
        t = self._check_tuple(indices)
        C = evaluate(self.check_advice(advice), range(self.q), self.q)
        product = np.ones((self.q, self.K), dtype=np.int64)
        for E, i in zip(self.evals, t):
            product = product * E[i] % self.q
        return int(np.count_nonzero(product.sum(axis=1) % self.q == C))

    def decode(self, advice, indices) -> tuple[int, ...] | None:
        """The OV tuple ``indices`` if its product in the instance of ``advice`` exceeds ``D``, else ``None``.

        A product ``> D`` forces ``C = C*`` and hence orthogonality (module
        docstring), so a returned tuple is always orthogonal.  ``None`` for
        ``indices=None``.
        """
        if indices is None:
            return None
        t = self._check_tuple(indices)
        return t if self.inner_product(advice, t) > self.t_lo else None


def _family(sets, k: int, T, q, max_entries: int | None) -> tuple[GapFamily, Callable]:
    m = sets[0].shape[1]
    T, K, q = default_parameters(m, k, T, q)
    entries = sum(X.shape[0] for X in sets) * q ** ((k - 1) * K + 1)
    if max_entries is not None and entries > max_entries:
        raise ValueError(f"one instance would hold {entries:.3e} entries (sum N_p = {sum(X.shape[0] for X in sets)}, "
                         f"dimension q^((k-1)K+1) = {q}^{(k - 1) * K + 1}) > max_entries={max_entries}")
    family = GapFamily(tuple(sets), T, q)
    return family, family.decode


def ov_to_gap(instance, B=None, *, T: int | None = None, q: int | None = None,
              max_entries: int | None = MAX_ENTRIES) -> tuple[GapFamily, Callable]:
    """OV -> a lazy family of ``q^{2T-2}`` gap max-IP instances (the MA protocol for disjointness).

    Parameters
    ----------
    instance : OVInstance, or the 0/1 matrix ``A`` (``N_a x m``) with ``B`` given.
    B : 0/1 matrix ``N_b x m`` when ``instance`` is ``A``.
    T : block length (default: minimises the total size, see the module docstring).
    q : prime, ``q > m`` and ``q > 2T - 2`` (default: the smallest such prime).
    max_entries : refuse when one instance would hold more 0/1 entries (``None``: no cap).

    Returns
    -------
    family : GapFamily
        Iterate it for ``(advice, GapInstance)`` pairs with ``t_lo = 2T - 2``,
        ``t_hi = q``, dimension ``q^{K+1}``, ``N_a`` and ``N_b`` vectors.
    decode : callable
        ``decode(advice, (i, j))``: the orthogonal pair ``(i, j)`` if
        ``<u_i, v_{j,C}> > 2T - 2`` in the instance of ``advice``, else ``None``.
        OV's answer is the OR over the instances.

    Raises
    ------
    ValueError
        Bad matrices (as :class:`~reductions.ov.OVInstance`); ``T`` not an
        integer ``>= 1``; ``q`` not prime, ``q <= m`` or ``q <= 2T - 2``;
        an instance above ``max_entries``; ``decode`` on a bad advice or pair.

    Examples
    --------
    >>> from reductions.gap_to_attention import max_inner_product
    >>> family, decode = ov_to_gap([[1, 1, 0, 0], [0, 1, 1, 0]], [[1, 0, 1, 1], [1, 0, 0, 1]])
    >>> family.T, family.K, family.q, family.num_instances, family.dimension
    (2, 2, 5, 25, 125)
    >>> best = [(c, max_inner_product(g.A, g.B)) for c, g in family]  # (value, i, j) per advice
    >>> sorted({v for _, (v, i, j) in best})  # <= 2T - 2 = 2, or q = 5
    [0, 1, 2, 5]
    >>> [(c, decode(c, (i, j))) for c, (v, i, j) in best if v > family.t_lo]  # only x_1 _|_ y_1
    [((1, 1, 3), (1, 1))]
    >>> family.honest_advice((1, 1))  # Merlin's proof C* = 1 + z + 3 z^2
    (1, 1, 3)

    Notes
    -----
    ``O(N q K T)`` to interpolate and ``O(N_b q^{K+1})`` for Bob's table, then
    ``O((N_a + N_b) q^{K+1})`` per instance; completeness and soundness are
    proved in the module docstring.
    """
    inst = instance if isinstance(instance, OVInstance) else OVInstance(instance, B)
    return _family((inst.A, inst.B), 2, T, q, max_entries)


def kov_to_gap3(instance, B=None, C=None, *, T: int | None = None, q: int | None = None,
                max_entries: int | None = MAX_ENTRIES) -> tuple[GapFamily, Callable]:
    """3-OV -> a lazy family of ``q^{3T-3}`` gap 3-max-IP instances (three-party MA protocol).

    Parameters
    ----------
    instance : KOVInstance with ``k = 3``, or the first 0/1 matrix with ``B``, ``C`` given.
    T, q, max_entries : as :func:`ov_to_gap`, with ``q > 3T - 3``.

    Returns
    -------
    family : GapFamily
        ``(advice, Gap3Instance)`` pairs, ``t_lo = 3T - 3``, ``t_hi = q``,
        dimension ``q^{2K+1}``; the third party holds the advice.
    decode : callable
        ``decode(advice, (i, j, l))``: the orthogonal triple, or ``None``.

    Raises
    ------
    ValueError
        As :func:`ov_to_gap`; also a ``KOVInstance`` with ``k != 3``.

    Examples
    --------
    >>> family, decode = kov_to_gap3([[1, 1, 0]], [[1, 0, 1]], [[0, 1, 1], [1, 1, 1]], T=2)
    >>> family.q, family.K, family.num_instances, family.dimension, family.t_lo
    (5, 2, 125, 3125, 3)
    >>> c = family.honest_advice((0, 0, 0))  # (x, y, z_0) orthogonal: a valid advice
    >>> family.inner_product(c, (0, 0, 0)), decode(c, (0, 0, 0)), decode(c, (0, 0, 1))
    (5, (0, 0, 0), None)
    """
    if isinstance(instance, KOVInstance):
        if instance.k != 3:
            raise ValueError(f"kov_to_gap3 needs a 3-OV instance, got k={instance.k}")
        sets = instance.sets
    else:
        A = as_binary("A", instance)
        sets = KOVInstance((A, B, C)).sets
    return _family(sets, 3, T, q, max_entries)

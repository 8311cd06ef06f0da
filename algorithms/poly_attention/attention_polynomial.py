"""The attention polynomial ``h`` of poly-attention, the structure that sets its cost, the named mechanisms.

Chakrabarti, Pitassi & Alman (arXiv 2602.02422, ICLR 2026, Def. 2.1) define an
*attention polynomial* ``h(x_1, ..., x_t)``: multilinear, every coefficient 0 or
1, every monomial of degree between 2 and ``k`` (``k`` is the degree of ``h``).
Variable ``x_1`` is the query position.  A monomial ``x_a x_b ... x_c`` stands for
the multi-way inner product ``sum_l Q^(a)[l_a, l] Q^(b)[l_b, l] ... Q^(c)[l_c, l]``
and one matrix ``Q^(j)`` serves every monomial containing ``x_j``.

Structure.  For degree 2, ``h`` *is* a graph (variables = vertices, monomials =
edges); in general its monomials form a hypergraph, stored here as the
bipartite incidence graph (networkx has no hypergraph type).  The *primal
graph* joins two variables when they share a monomial; summing variables out in
an order (variable elimination, :mod:`algorithms.poly_attention.exact`) costs
``n^(w+1)`` where ``w`` is the order's induced width with ``x_1`` never
eliminated.  Tree polynomials (degree 2, graph a forest) have ``w = 1``:
quadratic time, the paper's Thms 3.1, 3.4, 3.5.

Decisions recorded (the paper's full text was not readable to us; see
docs/poly-attention.md):

* Variables are numbered ``1..t`` as in the paper; ``Xs[j - 1]`` is ``Q^(j)``
  and ``Vs[j - 2]`` is ``V^(j)`` in every function of this package.
* A polynomial must use every variable ``x_1..x_t`` (a variable in no monomial
  would contribute a constant mean of its values: the paper excludes it) and
  must contain ``x_1``.  Several connected components are allowed, because the
  paper's tree polynomials include forests.
* Monomials of degree 1, repeated variables (non-multilinear) and repeated
  monomials (coefficient 2) raise ``ValueError``: coefficients are 0/1.
* The constructors of the named mechanisms end in ``_polynomial``
  (:func:`tensor_attention_polynomial` returns ``h = x1 x2 x3``, not an
  attention output as :func:`algorithms.tensor_attention.tensor_attention`
  does).  The shorter names used before are kept as aliases in
  :mod:`algorithms.poly_attention.polynomial`.

References
----------
.. [1] P. Chakrabarti, T. Pitassi, J. Alman. Poly-attention: a general scheme
   for higher-order self-attention. ICLR 2026, arXiv:2602.02422, Def. 2.1-2.2,
   Lemma 2.3.
.. [2] A. Kozachinskiy et al. Strassen attention. NeurIPS 2025, arXiv:2501.19215.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import cached_property

import networkx as nx

__all__ = [
    "AttentionPolynomial",
    "self_attention_polynomial",
    "tensor_attention_polynomial",
    "strassen_attention_polynomial",
    "tree_attention_polynomial",
    "path_attention_polynomial",
    "elimination_cost",
    "best_elimination_order",
    "tensor_form",
    "MAX_VARIABLES",
]

_EXHAUSTIVE_MAX_T = 8  # exhaustive search over (t-1)! orders up to 7! = 5040
MAX_VARIABLES = 1000  # default limit on the variable index read by AttentionPolynomial.parse


def _short(obj, limit: int = 40) -> str:
    """``repr(obj)``, cut to ``limit`` characters (error messages quote user input)."""
    text = repr(obj)
    return text if len(text) <= limit else f"{text[: limit - 15]}...({len(text)} chars)"


@dataclass(frozen=True)
class AttentionPolynomial:
    """An attention polynomial: ``t`` variables and a tuple of monomials.

    Parameters
    ----------
    t : int
        Number of token variables, ``t >= 2``; ``x_1`` is the query.
    monomials : iterable of iterables of int
        Each monomial is a set of variables in ``1..t`` (sorted on storage).

    Raises
    ------
    ValueError
        ``t < 2``; a monomial empty, of degree 1, with a repeated variable or a
        variable outside ``1..t``; a repeated monomial; no monomial contains
        ``x_1``; some variable occurs in no monomial.

    Examples
    --------
    >>> h = AttentionPolynomial(3, [(1, 2), (2, 3)])
    >>> print(h)
    x1x2 + x2x3
    >>> h.degree, h.is_tree, h.cost_exponent
    (2, True, 2)
    >>> strassen_attention_polynomial().cost_exponent, tensor_attention_polynomial(3).cost_exponent
    (3, 3)
    """

    t: int
    monomials: tuple[tuple[int, ...], ...]

    def __init__(self, t: int, monomials) -> None:
        if not isinstance(t, int) or t < 2:
            raise ValueError(f"t (number of variables) must be an integer >= 2, got {t!r}")
        cleaned = []
        for raw in monomials:
            mono = tuple(raw)
            if len(mono) == 0:
                raise ValueError("monomials must be non-empty; got an empty monomial")
            if len(set(mono)) != len(mono):
                raise ValueError(f"monomial {_short(mono)} repeats a variable: h must be multilinear")
            for v in mono:
                if not isinstance(v, int) or not 1 <= v <= t:
                    raise ValueError(f"monomial {_short(mono)}: variables must be integers in 1..{t}")
            if len(mono) < 2:
                raise ValueError(
                    f"monomial {_short(mono)} has degree 1: every monomial of an attention "
                    "polynomial has degree >= 2"
                )
            cleaned.append(tuple(sorted(mono)))
        if not cleaned:
            raise ValueError("monomials must be a non-empty list")
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("a monomial is repeated: coefficients of h are 0 or 1")
        used = set(itertools.chain.from_iterable(cleaned))
        if 1 not in used:
            raise ValueError("no monomial contains the query variable x1")
        if len(used) < t:  # used is a subset of 1..t: never build range(1, t + 1) (t may be huge)
            first = [j for j in range(1, min(t, len(used) + 5) + 1) if j not in used][:5]
            raise ValueError(
                f"{t - len(used)} of the variables x1..x{t} occur in no monomial (every x_j must be used), "
                f"the first: {first}"
            )
        object.__setattr__(self, "t", t)
        object.__setattr__(self, "monomials", tuple(cleaned))

    # ------------------------------------------------------------------ parsing
    @classmethod
    def parse(cls, text: str, max_variables: int = MAX_VARIABLES) -> AttentionPolynomial:
        """Read ``"x1x2 + x2x3"`` (``*`` between factors allowed); ``t`` = largest index.

        Parameters
        ----------
        text : str
            Monomials joined by ``+``; a variable is ``x`` and ASCII digits
            (``0-9``; no other digits, signs or underscores).  Spaces are ignored.
        max_variables : int
            Largest variable index accepted (default :data:`MAX_VARIABLES` =
            1000), checked before anything is built.

        Raises
        ------
        ValueError
            ``text`` not a non-empty string, a monomial not of the form
            ``x<digits>x<digits>...``, an index above ``max_variables``, or
            the polynomial invalid (see the class).  Messages quote at most
            40 characters of the input.

        Examples
        --------
        >>> AttentionPolynomial.parse("x1*x2 + x2 x3 + x3x1").monomials
        ((1, 2), (2, 3), (1, 3))
        >>> AttentionPolynomial.parse("x1x1000000000")
        Traceback (most recent call last):
        ...
        ValueError: variable index 1000000000 is above max_variables=1000; pass max_variables=1000000000 to allow it
        """
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"text must be a non-empty string like 'x1x2 + x2x3', got {_short(text)}")
        if isinstance(max_variables, bool) or not isinstance(max_variables, int) or max_variables < 2:
            raise ValueError(f"max_variables must be an integer >= 2, got {max_variables!r}")
        monos = []
        for term in text.split("+"):
            body = term.replace("*", "").replace(" ", "")
            if not re.fullmatch(r"(x[0-9]+)+", body):
                raise ValueError(f"cannot read the monomial {_short(term.strip())}; write e.g. 'x1x2' (ASCII digits)")
            digits = re.findall(r"x([0-9]+)", body)
            for v in digits:  # compare the digit strings first: no int() of a 10^6-digit number
                if len(v.lstrip("0")) > len(str(max_variables)) or int(v) > max_variables:
                    if len(v) > 30:
                        raise ValueError(f"variable index {v[:12]}...({len(v)} digits) is above "
                                         f"max_variables={max_variables}")
                    raise ValueError(
                        f"variable index {int(v)} is above max_variables={max_variables}; "
                        f"pass max_variables={int(v)} to allow it"
                    )
            monos.append(tuple(int(v) for v in digits))
        try:
            return cls(max(max(m) for m in monos), monos)
        except ValueError as exc:  # e.g. "x1" (t = 1): say which text, not only which t
            raise ValueError(f"text {_short(text)} is not an attention polynomial: {exc}") from None

    def __str__(self) -> str:
        return " + ".join("".join(f"x{v}" for v in m) for m in self.monomials)

    # --------------------------------------------------------------- structure
    @property
    def degree(self) -> int:
        """``k``: the largest monomial degree (sets the entry threshold ``(log n)^{1/k}``)."""
        return max(len(m) for m in self.monomials)

    @property
    def num_monomials(self) -> int:
        """``m``, the number of monomials."""
        return len(self.monomials)

    def variables_of(self, j: int) -> list[int]:
        """Indices of the monomials containing ``x_j``."""
        return [i for i, m in enumerate(self.monomials) if j in m]

    @cached_property
    def hypergraph(self) -> nx.Graph:
        """Bipartite incidence graph: nodes ``"x1".."xt"`` and ``("m", i)`` per monomial."""
        H = nx.Graph()
        H.add_nodes_from((f"x{j}" for j in range(1, self.t + 1)), bipartite=0)
        for i, m in enumerate(self.monomials):
            H.add_node(("m", i), bipartite=1, label="".join(f"x{v}" for v in m))
            H.add_edges_from((f"x{v}", ("m", i)) for v in m)
        return H

    @cached_property
    def graph(self) -> nx.Graph:
        """The primal graph on ``1..t``: an edge when two variables share a monomial.

        For degree 2 this is the paper's graph of ``h`` (one edge per monomial).
        """
        G = nx.Graph()
        G.add_nodes_from(range(1, self.t + 1))
        for m in self.monomials:
            G.add_edges_from(itertools.combinations(m, 2))
        return G

    @property
    def is_tree(self) -> bool:
        """Tree polynomial: degree 2 and the graph is a forest (paper: tree or forest)."""
        return self.degree == 2 and nx.is_forest(self.graph)

    @cached_property
    def _best(self) -> tuple[tuple[int, ...], int]:
        return best_elimination_order(self)

    @property
    def elimination_order(self) -> tuple[int, ...]:
        """The order of ``x_2..x_t`` that :func:`poly_attention_exact` uses."""
        return self._best[0]

    @property
    def cost_exponent(self) -> int:
        """``w + 1``: exact evaluation touches ``O(n^(w+1) d)`` numbers (``w`` = width)."""
        return self._best[1]

    @property
    def treewidth(self) -> int:
        """Treewidth upper bound of the primal graph (networkx min-fill-in heuristic).

        The elimination width with ``x_1`` kept to the end can exceed it by one
        (e.g. never here for trees); :attr:`cost_exponent` is the figure that
        counts for the running time.
        """
        from networkx.algorithms.approximation import treewidth_min_fill_in

        return treewidth_min_fill_in(self.graph)[0]


# ---------------------------------------------------------------- elimination
def elimination_cost(h: AttentionPolynomial, order) -> int:
    """Largest number of variables in one elimination step (the exponent of ``n``).

    Eliminating ``v`` joins every remaining factor that mentions ``v`` into one
    table over ``{v} + neighbours(v)`` and sums ``v`` out, leaving a factor on
    the neighbours.  Building a monomial's own table costs ``n^{|monomial|}``,
    so the result is at least the degree.
    """
    order = tuple(order)
    if sorted(order) != list(range(2, h.t + 1)):
        raise ValueError(f"order must be a permutation of 2..{h.t}, got {order}")
    scopes = [set(m) for m in h.monomials]
    cost = h.degree
    for v in order:
        touching = [s for s in scopes if v in s]
        union = set().union(*touching) if touching else {v}
        cost = max(cost, len(union))
        scopes = [s for s in scopes if v not in s] + [union - {v}]
    return cost


def best_elimination_order(h: AttentionPolynomial) -> tuple[tuple[int, ...], int]:
    """An elimination order of ``x_2..x_t`` with the smallest cost exponent.

    Exhaustive over all ``(t-1)!`` orders for ``t <= 8`` (so the exponent is the
    optimum over orders); greedy min-degree (ties: min-fill) above that, an upper
    bound as in networkx's treewidth heuristics.  Returns ``(order, exponent)``.
    """
    rest = list(range(2, h.t + 1))
    if h.t <= _EXHAUSTIVE_MAX_T:
        best = min(itertools.permutations(rest), key=lambda o: (elimination_cost(h, o), o))
        return tuple(best), elimination_cost(h, best)
    G = h.graph.copy()
    order = []
    while len(order) < len(rest):
        def key(v):
            nbrs = list(G[v])
            fill = sum(1 for a, b in itertools.combinations(nbrs, 2) if not G.has_edge(a, b))
            return (len(nbrs), fill, v)

        v = min((u for u in G if u != 1), key=key)
        G.add_edges_from(itertools.combinations(list(G[v]), 2))
        G.remove_node(v)
        order.append(v)
    return tuple(order), elimination_cost(h, order)


# --------------------------------------------------------------- constructors
def self_attention_polynomial() -> AttentionPolynomial:
    """``h = x1 x2``: standard softmax attention (Lemma 2.3)."""
    return AttentionPolynomial(2, [(1, 2)])


def tensor_attention_polynomial(k: int = 3) -> AttentionPolynomial:
    """``h = x1 x2 ... xk``: ``k``-tensor attention (Alman & Song 2024; Sanford et al. 2023)."""
    if not isinstance(k, int) or k < 2:
        raise ValueError(f"k must be an integer >= 2, got {k!r}")
    return AttentionPolynomial(k, [tuple(range(1, k + 1))])


def strassen_attention_polynomial() -> AttentionPolynomial:
    """``h = x1 x2 + x2 x3 + x3 x1``: Strassen attention (Kozachinskiy et al. 2025)."""
    return AttentionPolynomial(3, [(1, 2), (2, 3), (1, 3)])


def path_attention_polynomial(r: int) -> AttentionPolynomial:
    """``h_r = x1 x2 + x2 x3 + ... + x_r x_{r+1}``: the path of Thm 3.4 (``r``-fold composition)."""
    if not isinstance(r, int) or r < 1:
        raise ValueError(f"r must be an integer >= 1, got {r!r}")
    return AttentionPolynomial(r + 1, [(j, j + 1) for j in range(1, r + 1)])


def tree_attention_polynomial(tree: nx.Graph, root=None) -> AttentionPolynomial:
    """Tree attention for any networkx tree (or forest): one monomial per edge.

    Parameters
    ----------
    tree : networkx.Graph, a tree or forest with at least one edge.
    root : node of ``tree`` that becomes the query ``x_1``.  If omitted and the
        nodes are exactly ``1..t``, labels are kept (node 1 is the query);
        otherwise the first node is the root.  Other nodes are numbered
        ``x_2, x_3, ...`` in breadth-first order from the root, then the
        remaining components.

    Raises
    ------
    ValueError
        Not a forest, no edges, an isolated node, or ``root`` not a node.

    Examples
    --------
    >>> print(tree_attention_polynomial(nx.path_graph(["Sam", "city", "country"])))
    x1x2 + x2x3
    """
    if not isinstance(tree, nx.Graph) or tree.is_directed():
        raise ValueError("tree must be an undirected networkx.Graph")
    if tree.number_of_edges() == 0 or not nx.is_forest(tree):
        raise ValueError("tree must be a forest (no cycles) with at least one edge")
    nodes = list(tree.nodes)
    if root is None and set(nodes) == set(range(1, len(nodes) + 1)):
        label = {v: v for v in nodes}
    else:
        root = nodes[0] if root is None else root
        if root not in tree:
            raise ValueError(f"root {root!r} is not a node of tree")
        ordered = list(nx.bfs_tree(tree, root)) + [v for v in nodes if v not in nx.node_connected_component(tree, root)]
        label = {v: i + 1 for i, v in enumerate(ordered)}
    return AttentionPolynomial(len(nodes), [(label[a], label[b]) for a, b in tree.edges])


def tensor_form(h: AttentionPolynomial, Xs) -> list:
    """Inputs for ``t``-tensor attention ``x1...xt`` that reproduce ``Att^(h)`` exactly.

    Block ``i`` (width ``d``) of ``Q'^(j)`` holds ``Q^(j)`` when ``x_j`` is in
    monomial ``i`` and all-ones otherwise, so the ``t``-way inner product of the
    new rows is ``h``; ``Q'^(1)`` is multiplied by ``m`` so that the ``1/(m d)``
    scaling of the wider head gives back ``h/d``.  Every poly-attention head is
    thus one ``t``-tensor head of width ``m d`` (a remark of an ICLR 2026
    reviewer of arXiv 2602.02422; see docs/poly-attention.md): poly-attention
    buys running time and small width, not expressiveness.

    Examples
    --------
    >>> import numpy as np
    >>> Xs = [np.full((2, 1), 2.0)] * 3
    >>> [X.shape for X in tensor_form(strassen_attention_polynomial(), Xs)]
    [(2, 3), (2, 3), (2, 3)]
    """
    import numpy as np

    m = h.num_monomials
    Xs = [np.asarray(X, dtype=float) for X in Xs]
    if len(Xs) != h.t:
        raise ValueError(f"Xs must be a list of t={h.t} matrices")
    n, d = Xs[0].shape
    out = []
    for j in range(1, h.t + 1):
        blocks = [Xs[j - 1] if j in M else np.ones((n, d)) for M in h.monomials]
        out.append(np.hstack(blocks) * (m if j == 1 else 1))
    return out

"""Old module path and old constructor names of :mod:`algorithms.poly_attention.attention_polynomial`.

The attention polynomial moved to ``attention_polynomial.py`` (``polynomial``
was also the name of :mod:`algorithms.polynomial`, the approximation of
``exp``), and its constructors gained a ``_polynomial`` suffix because
``tensor_attention`` was at once a module, a function computing attention and
a constructor of ``h``.  The old names still work, here and from
:mod:`algorithms.poly_attention`:

=====================  ==================================
old name               new name
=====================  ==================================
``self_attention``     :func:`self_attention_polynomial`
``tensor_attention``   :func:`tensor_attention_polynomial`
``strassen_attention`` :func:`strassen_attention_polynomial`
``path_attention``     :func:`path_attention_polynomial`
``tree_attention``     :func:`tree_attention_polynomial`
=====================  ==================================

Examples
--------
>>> from algorithms.poly_attention import tensor_attention, tensor_attention_polynomial
>>> tensor_attention is tensor_attention_polynomial
True
"""

from .attention_polynomial import (
    AttentionPolynomial,
    best_elimination_order,
    elimination_cost,
    path_attention_polynomial,
    self_attention_polynomial,
    strassen_attention_polynomial,
    tensor_attention_polynomial,
    tensor_form,
    tree_attention_polynomial,
)

#: Old name of :func:`self_attention_polynomial`.
self_attention = self_attention_polynomial
#: Old name of :func:`tensor_attention_polynomial`.
tensor_attention = tensor_attention_polynomial
#: Old name of :func:`strassen_attention_polynomial`.
strassen_attention = strassen_attention_polynomial
#: Old name of :func:`path_attention_polynomial`.
path_attention = path_attention_polynomial
#: Old name of :func:`tree_attention_polynomial`.
tree_attention = tree_attention_polynomial

__all__ = [
    "AttentionPolynomial",
    "best_elimination_order",
    "elimination_cost",
    "tensor_form",
    "self_attention",
    "tensor_attention",
    "strassen_attention",
    "path_attention",
    "tree_attention",
]

"""Executable fine-grained reductions: k-SAT (DIMACS) -> OV / k-OV -> attention instances.

What lives here (SPEC §1-§3, §6): CNF formulas and the DIMACS format, orthogonal
vectors, Williams' split-and-list reduction, the maps from OV and from gap
max-inner-product to attention and tensor-attention instances with their
decoders, the forward-to-gradient reduction, and the pipeline that decides SAT
through attention.  Each reduction is a pure function
``source instance -> (target instance, decode)`` whose docstring states the
parameter blow-up.
"""

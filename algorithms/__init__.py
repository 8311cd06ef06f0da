"""Algorithms for attention with bounded entries: exact, and fast by the polynomial method.

Modules
-------
polynomial
    Certified low-degree approximation of ``exp`` (Alman & Song 2023, Sec. 3;
    Aggarwal & Alman 2022).
features
    Polynomial feature maps ``phi, psi`` with ``P(<q,k>/d) = phi(q).psi(k)``.
attention
    Exact and fast matrix attention, its VJP and the training gradient of
    Alman & Song 2024 (SPEC §1-§2).
"""

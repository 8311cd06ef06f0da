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
tensor_attention, tensor_gradient
    Three-way (Kronecker) attention: exact, fast by the tensor trick, VJPs and
    the training-loss gradient (Alman & Song 2024 ICLR; Liang, Shi, Song, Zhou
    2024; SPEC §3).
transformer
    An m-layer multi-head transformer with causal mask and residuals, forward
    and backward written out, exact and fast (Liang, Sha, Shi, Song, Zhou 2024;
    SPEC §4).
poly_attention
    Attention defined by a polynomial over tokens: exact algorithms from its
    structure, the fast method, tree and Strassen attention, polyadic tasks
    (Chakrabarti, Pitassi, Alman 2026; SPEC §5).
bounds, threshold
    Symbolic degree, rank and cost (sympy), their asymptotic exponents, and the
    threshold map of where fast algorithms can exist (SPEC §7).
"""

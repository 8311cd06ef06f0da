"""Shared test references, independent of the code under test.

Fixtures and helpers here are written straight from the papers' definitions
(dense, small inputs only), so a test can compare the library against a
computation that does not share its code.
"""

"""The evidence for derivlib: shared problem cases, oracles, figure helpers, the mutant
catalogue and the claims ledger. Not installed with the library.

Tests, pages, tools and benchmarks import it; it imports only derivlib (and, for the
oracles and figures, autograd, SymPy and matplotlib; for the differential test's oracle,
PyTorch), never them.
"""

"""The anyllm conformance suites: one case per spec feature, parameterized by provider.

Run them with ``pytest --provider=all`` (replay of the committed cassettes) or
``pytest --provider=llamacpp --record`` (record live): with no path, ``--provider`` collects
this package wherever pytest runs (:mod:`anyllm.testing.plugin.front_door`).
"""

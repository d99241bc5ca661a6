"""The anyllm conformance suites: one case per spec feature, parameterized by provider.

Run them with ``pytest conformance --provider=all`` (replay of the committed cassettes) or
``pytest conformance --provider=llamacpp --record`` (record live).
"""

"""No fixtures of its own: the cases' shared inputs are in common.py, the fixtures come from the
plugin (anyllm.testing.plugin)."""

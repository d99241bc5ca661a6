"""Shared inputs of the conformance cases (the plugin itself comes from anyllm.testing.plugin)."""

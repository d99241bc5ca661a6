"""The pytest harness: validation, cassettes, the plugin, the live llama.cpp server."""

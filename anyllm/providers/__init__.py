"""One module per wire protocol, plus the registry of vendors."""

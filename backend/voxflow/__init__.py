"""VoxFlow: the sidecar and CLI of a multi-tenant platform for voice AI agents."""

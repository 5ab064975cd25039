"""Frame -> rendering degree and segments: faces, scene similarity, person/background segments (layout.md)."""

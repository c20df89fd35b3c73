"""What every domain shares and nothing web-specific: declared life cycles (`core.lifecycle`)."""

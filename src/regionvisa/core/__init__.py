"""What every domain shares, with no database and no web framework: the domain errors
(`core.errors`) and the life-cycle tables' building blocks (`core.lifecycle`)."""

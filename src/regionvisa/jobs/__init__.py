"""Long work as jobs (DESIGN.md §4.10): queued in the database, run by workers, followed by id."""

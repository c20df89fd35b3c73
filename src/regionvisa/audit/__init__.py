"""The append-only, hash-chained audit log that every domain writes through `audit.service.record`."""

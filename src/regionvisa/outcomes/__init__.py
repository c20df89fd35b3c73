"""The pilot outcome report: pilot holders beside a comparison group from the national records."""

"""Users, roles and region scope, sessions, API tokens and the one permission policy."""

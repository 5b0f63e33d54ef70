"""Use cases; they own transactions and return public schemas, never ORM rows."""

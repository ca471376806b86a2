"""Storage: the database schema, its migrations and the store the pipeline uses."""

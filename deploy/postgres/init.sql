-- Runs once, when the postgresql volume is first initialised.
-- Temporal's auto-setup creates its own `temporal` and `temporal_visibility` databases;
-- the application gets a separate database so its migrations never touch Temporal's schema.
CREATE DATABASE nexus;

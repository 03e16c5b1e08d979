"""SQLModel tables, enums and repositories: all SQL of the platform lives in this package."""

"""migration-wizard: apply an ordered folder of SQL migrations to Supabase or any PostgreSQL."""

__version__ = "0.1.0"

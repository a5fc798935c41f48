"""Scratch PostgreSQL databases for the benchmarks (no Django needed)."""

import psycopg


def fresh_database(url: str) -> None:
    """Drop the database ``url`` names, if any, and create it empty."""
    admin_url, name = url.rsplit("/", 1)
    with psycopg.connect(f"{admin_url}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')

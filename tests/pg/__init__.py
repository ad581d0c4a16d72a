"""Tests against a real PostgreSQL server (the fixture in conftest.py starts one)."""

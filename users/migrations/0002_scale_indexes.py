"""Indexes for owner search among a million users, on PostgreSQL only.

One multi-column trigram GIN index over UPPER(email) and the three names
serves ``icontains`` on any of them (Django compiles it to UPPER(...) LIKE
UPPER(...)), the B-tree serves the results' order so that a common fragment
stops after twenty rows. SQLite gets neither; the model state is unchanged.
"""

from django.db import migrations

from operator_panel.migration_ops import postgresql_indexes

INDEXES = [
    (
        "users_user_search_trgm",
        "users_user",
        "USING gin (upper(email) gin_trgm_ops, upper(first_name) gin_trgm_ops, "
        "upper(middle_name) gin_trgm_ops, upper(last_name) gin_trgm_ops)",
    ),
    ("users_user_name_order", "users_user", "(last_name, first_name, email)"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0001_initial"),
    ]

    operations = [
        postgresql_indexes(INDEXES),
    ]

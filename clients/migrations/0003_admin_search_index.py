"""A trigram index for Django admin's client search, on PostgreSQL only.

The admin searches the ID, the name, the company name, the email and the
phone (ClientAdmin.search_fields). Name and phone have their trigram indexes
(0002); this one serves the other two, so that every branch of the search's
OR is an index scan: one column without an index makes PostgreSQL read the
whole table for all of them. One multi-column GIN index serves a condition
on either column. SQLite gets nothing; the model state does not change.
"""

from django.db import migrations

from operator_panel.migration_ops import postgresql_indexes

INDEXES = [
    (
        "clients_client_admin_search_trgm",
        "clients_client",
        "USING gin (upper(company_name) gin_trgm_ops, upper(email) gin_trgm_ops)",
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0002_scale_indexes"),
    ]

    operations = [
        postgresql_indexes(INDEXES),
    ]

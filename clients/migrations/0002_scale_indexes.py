"""Indexes for a million clients, on PostgreSQL only.

Trigram (pg_trgm) GIN indexes serve the list's substring search; they are
built on UPPER(column) because Django's ``icontains`` compiles to
``UPPER(column::text) LIKE UPPER(pattern)`` on PostgreSQL. B-tree indexes start
with the reseller (every manager's list is scoped to one) and end with the ID,
the keyset pagination's tie-breaker. SQLite gets none of them: it serves
development and tests, where tables are small. The model state does not change
(the indexes are invisible to Django), so ``makemigrations --check`` stays clean.
"""

from django.db import migrations

from operator_panel.migration_ops import postgresql_indexes

# (name, table, definition after "ON table")
INDEXES = [
    # Substring search: name and phone (the owner's email is indexed in users).
    ("clients_client_name_trgm", "clients_client", "USING gin (upper(name) gin_trgm_ops)"),
    ("clients_client_phone_trgm", "clients_client", "USING gin (upper(phone) gin_trgm_ops)"),
    # The list's sorts, within a reseller, the ID last.
    ("clients_client_res_created", "clients_client", "(reseller_id, created_at, id)"),
    ("clients_client_res_name", "clients_client", "(reseller_id, name, id)"),
    ("clients_client_res_status", "clients_client", "(reseller_id, status, id)"),
    ("clients_client_res_country", "clients_client", "(reseller_id, country, id)"),
    ("clients_client_res_city", "clients_client", "(reseller_id, city, id)"),
    ("clients_client_res_phone", "clients_client", "(reseller_id, phone, id)"),
    ("clients_client_res_postpay", "clients_client", "(reseller_id, postpay_permission, id)"),
    ("clients_client_res_id", "clients_client", "(reseller_id, id)"),
    # Filters with the default sort (newest first).
    (
        "clients_client_res_mgr_created",
        "clients_client",
        "(reseller_id, manager_id, created_at, id)",
    ),
    (
        "clients_client_res_type_created",
        "clients_client",
        "(reseller_id, client_type_id, created_at, id)",
    ),
    (
        "clients_client_res_rule_created",
        "clients_client",
        "(reseller_id, service_rule_id, created_at, id)",
    ),
    # The root reseller's staff see every reseller: the default sort across all,
    # and Django admin's changelist ordering.
    ("clients_client_created", "clients_client", "(created_at, id)"),
    # Exact INN (and other attribute values): a B-tree on a bounded prefix, as a
    # free-text value may exceed a B-tree entry's size limit.
    (
        "clients_attrvalue_attr_value",
        "clients_clientattributevalue",
        "(attribute_id, left(value, 100))",
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0001_initial"),
    ]

    operations = [
        postgresql_indexes(INDEXES),
    ]

"""Attribute values get a maximum length (rules.models.ATTRIBUTE_VALUE_MAX_LENGTH,
1,000 characters), shared by the column, the Add client page and the service.

A value stored before the limit and longer than it (only a hostile post made
one: the page never offered more than a short text) keeps its first 1,000
characters, so that the column can change type.
"""

from django.db import migrations, models
from django.db.models.functions import Left, Length

MAX_LENGTH = 1000  # the number as it was when this migration was written


def cut_over_long_values(apps, schema_editor) -> None:
    values = apps.get_model("clients", "ClientAttributeValue").objects
    values.alias(length=Length("value")).filter(length__gt=MAX_LENGTH).update(
        value=Left("value", MAX_LENGTH)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0004_client_version_owner_terms_and_lifecycle_events"),
    ]

    operations = [
        migrations.RunPython(cut_over_long_values, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="clientattributevalue",
            name="value",
            field=models.CharField(blank=True, max_length=MAX_LENGTH, verbose_name="value"),
        ),
    ]

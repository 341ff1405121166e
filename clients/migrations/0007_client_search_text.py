"""The list's search text (clients/search.py): the column. Adding a column with
a constant default is instant on PostgreSQL; clients/0008 fills it."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0006_owner_email_check"),
    ]

    operations = [
        migrations.AddField(
            model_name="client",
            name="search_text",
            field=models.CharField(
                blank=True,
                default="",
                editable=False,
                max_length=1589,
                verbose_name="search text",
            ),
        ),
    ]

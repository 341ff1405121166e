"""New logins have an ASCII part before "@" (look-alike letters from other
alphabets read like another person's address). A validator only: existing
rows are not checked until they are edited."""

import users.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0003_user_serial_scans"),
    ]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="email",
            field=models.EmailField(
                max_length=254,
                validators=[users.validators.validate_email_local_part_ascii],
                verbose_name="email",
            ),
        ),
    ]

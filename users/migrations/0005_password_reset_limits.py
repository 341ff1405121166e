"""What the "forgot password" limits remember: when an account was last sent
a link, which emails had a task queued lately (as digests), and the recent
requests of each address."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0004_user_email_ascii_local_part"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="password_reset_sent_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="password reset link sent at"
            ),
        ),
        migrations.CreateModel(
            name="PasswordResetEmail",
            fields=[
                (
                    "email_digest",
                    models.CharField(
                        max_length=64, primary_key=True, serialize=False, verbose_name="email digest"
                    ),
                ),
                ("queued_at", models.DateTimeField(verbose_name="queued at")),
            ],
            options={
                "verbose_name": "password reset email",
                "verbose_name_plural": "password reset emails",
                "ordering": ["-queued_at"],
                "indexes": [models.Index(fields=["queued_at"], name="users_reset_email_time")],
            },
        ),
        migrations.CreateModel(
            name="PasswordResetRequest",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("address", models.CharField(max_length=45, verbose_name="address")),
                (
                    "requested_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="requested at"
                    ),
                ),
            ],
            options={
                "verbose_name": "password reset request",
                "verbose_name_plural": "password reset requests",
                "ordering": ["-requested_at"],
                "indexes": [
                    models.Index(fields=["address", "requested_at"], name="users_reset_address_time"),
                    models.Index(fields=["requested_at"], name="users_reset_time"),
                ],
            },
        ),
    ]

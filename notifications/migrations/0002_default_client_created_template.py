"""The default "client created" template, in Russian and English. The root
reseller's handler that uses it is made by services.ensure_default_handlers
(called by seed_demo), since a fresh database has no reseller yet."""

from django.db import migrations

SUBJECT = {
    "ru": "{{ reseller.name }}: создан клиент {{ client.name }}",
    "en": "{{ reseller.name }}: client {{ client.name }} has been created",
}
BODY = {
    "ru": """Здравствуйте{% if owner.first_name %}, {{ owner.first_name }}{% endif %}!

{{ reseller.name }} создал для вас учётную запись клиента «{{ client.name }}» (№ {{ client.id }}).
Вы — владелец этой учётной записи; ваш логин: {{ owner.email }}.
{% if owner_password_setup_url %}
Чтобы задать пароль, откройте ссылку (она действует {{ owner_password_setup_valid_days }} дн. и только один раз):
{{ owner_password_setup_url }}
{% endif %}
С уважением,
{{ reseller.name }}
""",
    "en": """Hello{% if owner.first_name %}, {{ owner.first_name }}{% endif %}!

{{ reseller.name }} has created the client account "{{ client.name }}" (No. {{ client.id }}) for you.
You are the owner of this account; your login is {{ owner.email }}.
{% if owner_password_setup_url %}
To set your password, open this link (it works once, for {{ owner_password_setup_valid_days }} days):
{{ owner_password_setup_url }}
{% endif %}
Kind regards,
{{ reseller.name }}
""",
}
HTML = {
    "ru": """<p>Здравствуйте{% if owner.first_name %}, {{ owner.first_name }}{% endif %}!</p>
<p>{{ reseller.name }} создал для вас учётную запись клиента «{{ client.name }}» (№ {{ client.id }}). Ваш логин: {{ owner.email }}.</p>
{% if owner_password_setup_url %}<p><a href="{{ owner_password_setup_url }}">Задать пароль</a> (ссылка действует {{ owner_password_setup_valid_days }} дн. и только один раз).</p>{% endif %}
<p>С уважением,<br>{{ reseller.name }}</p>
""",
    "en": """<p>Hello{% if owner.first_name %}, {{ owner.first_name }}{% endif %}!</p>
<p>{{ reseller.name }} has created the client account "{{ client.name }}" (No. {{ client.id }}) for you. Your login is {{ owner.email }}.</p>
{% if owner_password_setup_url %}<p><a href="{{ owner_password_setup_url }}">Set your password</a> (the link works once, for {{ owner_password_setup_valid_days }} days).</p>{% endif %}
<p>Kind regards,<br>{{ reseller.name }}</p>
""",
}


def create(apps, schema_editor):
    NotificationTemplate = apps.get_model("notifications", "NotificationTemplate")
    TemplateContent = apps.get_model("notifications", "TemplateContent")
    template, _ = NotificationTemplate.objects.get_or_create(
        key="client_created", defaults={"name": "Client created / Клиент создан"}
    )
    for language in ("ru", "en"):
        TemplateContent.objects.get_or_create(
            template=template,
            language=language,
            defaults={
                "subject": SUBJECT[language],
                "body_text": BODY[language],
                "body_html": HTML[language],
            },
        )


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]

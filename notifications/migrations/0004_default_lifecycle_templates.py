"""Default templates for what happens to a client after its creation (its
manager changes, a user is added, the ownership moves), in Russian and
English, and the terms paragraph of the default "client created" template
(only where that template still has its shipped text). The root reseller's
handlers that use them are made by services.ensure_default_handlers."""

import importlib

from django.db import migrations

SIGNATURE = {
    "ru": "\nС уважением,\n{{ reseller.name }}\n",
    "en": "\nKind regards,\n{{ reseller.name }}\n",
}
HELLO = {
    "ru": "Здравствуйте{% if recipient.first_name %}, {{ recipient.first_name }}{% endif %}!\n\n",
    "en": "Hello{% if recipient.first_name %}, {{ recipient.first_name }}{% endif %}!\n\n",
}
PASSWORD = {
    "ru": (
        "{% if recipient_password_setup_url %}\nЧтобы задать пароль, откройте ссылку (она действует "
        "{{ owner_password_setup_valid_days }} дн. и только один раз):\n"
        "{{ recipient_password_setup_url }}\n{% endif %}"
    ),
    "en": (
        "{% if recipient_password_setup_url %}\nTo set your password, open this link (it works "
        "once, for {{ owner_password_setup_valid_days }} days):\n"
        "{{ recipient_password_setup_url }}\n{% endif %}"
    ),
}
TERMS = {
    "ru": (
        "{% if terms.acceptance_url %}\n{{ reseller.name }} просит вас принять условия работы "
        "({{ terms.url }}). Принять их можно по ссылке:\n{{ terms.acceptance_url }}\n"
        "{% elif terms.pending and recipient_is_owner %}\nПри установке пароля вас попросят "
        "принять условия работы {{ reseller.name }} ({{ terms.url }}).\n{% endif %}"
    ),
    "en": (
        "{% if terms.acceptance_url %}\n{{ reseller.name }} asks you to accept its terms and "
        "conditions ({{ terms.url }}). Accept them here:\n{{ terms.acceptance_url }}\n"
        "{% elif terms.pending and recipient_is_owner %}\nWhen you set your password you will be "
        "asked to accept the terms and conditions of {{ reseller.name }} ({{ terms.url }}).\n"
        "{% endif %}"
    ),
}

TERMS_HTML = {
    "ru": (
        "{% if terms.acceptance_url %}<p>{{ reseller.name }} просит вас принять "
        '<a href="{{ terms.url }}">условия работы</a>: '
        '<a href="{{ terms.acceptance_url }}">принять условия</a>.</p>'
        "{% elif terms.pending and recipient_is_owner %}<p>При установке пароля вас попросят "
        'принять <a href="{{ terms.url }}">условия работы</a> {{ reseller.name }}.</p>'
        "{% endif %}\n"
    ),
    "en": (
        "{% if terms.acceptance_url %}<p>{{ reseller.name }} asks you to accept its "
        '<a href="{{ terms.url }}">terms and conditions</a>: '
        '<a href="{{ terms.acceptance_url }}">accept them</a>.</p>'
        "{% elif terms.pending and recipient_is_owner %}<p>When you set your password you will "
        'be asked to accept the <a href="{{ terms.url }}">terms and conditions</a> of '
        "{{ reseller.name }}.</p>{% endif %}\n"
    ),
}

TEMPLATES = {
    "client_manager_changed": (
        "Manager changed / Менеджер изменён",
        {
            "ru": "{{ reseller.name }}: новый менеджер учётной записи {{ client.name }}",
            "en": "{{ reseller.name }}: a new manager for {{ client.name }}",
        },
        {
            "ru": HELLO["ru"]
            + "{% if manager.full_name %}Вашей учётной записью «{{ client.name }}» "
            "(№ {{ client.id }}) теперь занимается менеджер {{ manager.full_name }}"
            "{% if manager.email %}, {{ manager.email }}{% endif %}"
            "{% if manager.phone %}, {{ manager.phone }}{% endif %}.{% else %}"
            "У вашей учётной записи «{{ client.name }}» (№ {{ client.id }}) больше нет "
            "персонального менеджера.{% endif %}\n" + SIGNATURE["ru"],
            "en": HELLO["en"]
            + '{% if manager.full_name %}Your account "{{ client.name }}" (No. {{ client.id }}) '
            "is now looked after by {{ manager.full_name }}"
            "{% if manager.email %}, {{ manager.email }}{% endif %}"
            "{% if manager.phone %}, {{ manager.phone }}{% endif %}.{% else %}"
            'Your account "{{ client.name }}" (No. {{ client.id }}) no longer has a personal '
            "manager.{% endif %}\n" + SIGNATURE["en"],
        },
    ),
    "client_user_added": (
        "User added / Пользователь добавлен",
        {
            "ru": "{{ reseller.name }}: доступ к учётной записи {{ client.name }}",
            "en": "{{ reseller.name }}: access to the account {{ client.name }}",
        },
        {
            "ru": HELLO["ru"]
            + "{{ reseller.name }} открыл вам доступ к учётной записи клиента «{{ client.name }}» "
            "(№ {{ client.id }}), уровень доступа: {{ access_level }}. "
            "Ваш логин: {{ recipient.email }}.\n" + PASSWORD["ru"] + SIGNATURE["ru"],
            "en": HELLO["en"] + "{{ reseller.name }} has given you access to the client account "
            '"{{ client.name }}" (No. {{ client.id }}) as {{ access_level }}. '
            "Your login is {{ recipient.email }}.\n" + PASSWORD["en"] + SIGNATURE["en"],
        },
    ),
    "client_ownership_transferred": (
        "Ownership transferred / Владелец изменён",
        {
            "ru": "{{ reseller.name }}: новый владелец учётной записи {{ client.name }}",
            "en": "{{ reseller.name }}: a new owner of {{ client.name }}",
        },
        {
            "ru": HELLO["ru"]
            + "{% if recipient_is_owner %}Теперь вы — владелец учётной записи клиента "
            "«{{ client.name }}» (№ {{ client.id }}){% if previous_owner.full_name %}; прежний "
            "владелец, {{ previous_owner.full_name }}, стал администратором{% endif %}.\n"
            + PASSWORD["ru"]
            + TERMS["ru"]
            + "{% else %}Владелец учётной записи клиента «{{ client.name }}» (№ {{ client.id }}) "
            "теперь {{ owner.full_name|default:owner.email }}; ваш уровень доступа: "
            "{{ access_level|default:'—' }}.\n{% endif %}" + SIGNATURE["ru"],
            "en": HELLO["en"]
            + "{% if recipient_is_owner %}You are now the owner of the client account "
            '"{{ client.name }}" (No. {{ client.id }}){% if previous_owner.full_name %}; the '
            "previous owner, {{ previous_owner.full_name }}, is now an Admin{% endif %}.\n"
            + PASSWORD["en"]
            + TERMS["en"]
            + '{% else %}The owner of the client account "{{ client.name }}" '
            "(No. {{ client.id }}) is now {{ owner.full_name|default:owner.email }}; your access "
            "level: {{ access_level|default:'—' }}.\n{% endif %}" + SIGNATURE["en"],
        },
    ),
}


def _shipped_created():
    return importlib.import_module("notifications.migrations.0002_default_client_created_template")


def _created_with_terms(language: str) -> str:
    body = _shipped_created().BODY[language]
    signature = "С уважением," if language == "ru" else "Kind regards,"
    head, _sep, tail = body.partition(signature)
    return head + TERMS[language].lstrip("\n") + "\n" + signature + tail


def _html_with_terms(language: str) -> str:
    html = _shipped_created().HTML[language]
    signature = "<p>С уважением," if language == "ru" else "<p>Kind regards,"
    head, _sep, tail = html.partition(signature)
    return head + TERMS_HTML[language] + signature + tail


def create(apps, schema_editor):
    NotificationTemplate = apps.get_model("notifications", "NotificationTemplate")
    TemplateContent = apps.get_model("notifications", "TemplateContent")
    for key, (name, subjects, bodies) in TEMPLATES.items():
        template, _ = NotificationTemplate.objects.get_or_create(key=key, defaults={"name": name})
        for language in ("ru", "en"):
            TemplateContent.objects.get_or_create(
                template=template,
                language=language,
                defaults={"subject": subjects[language], "body_text": bodies[language]},
            )
    # The owner of a client whose terms wait learns how to accept them; a
    # template an admin has changed is left as it is.
    shipped = _shipped_created()
    for language in ("ru", "en"):
        TemplateContent.objects.filter(
            template__key="client_created", language=language, body_text=shipped.BODY[language]
        ).update(body_text=_created_with_terms(language))
        TemplateContent.objects.filter(
            template__key="client_created", language=language, body_html=shipped.HTML[language]
        ).update(body_html=_html_with_terms(language))


def remove(apps, schema_editor):
    TemplateContent = apps.get_model("notifications", "TemplateContent")
    shipped = _shipped_created()
    for language in ("ru", "en"):
        TemplateContent.objects.filter(
            template__key="client_created",
            language=language,
            body_text=_created_with_terms(language),
        ).update(body_text=shipped.BODY[language])
        TemplateContent.objects.filter(
            template__key="client_created",
            language=language,
            body_html=_html_with_terms(language),
        ).update(body_html=shipped.HTML[language])


class Migration(migrations.Migration):
    dependencies = [("notifications", "0003_delivery_client_event_and_lifecycle_events")]

    operations = [migrations.RunPython(create, remove)]

"""`make run` prints emails in its terminal: readable, with a clickable link."""

import email
import email.policy
import io

from django.core.mail import EmailMultiAlternatives

from notifications.mail import ReadableConsoleBackend


def test_console_prints_cyrillic_text_and_link_as_text():
    stream = io.StringIO()
    link = "http://127.0.0.1:8000/welcome/MQ/abc-123/"
    message = EmailMultiAlternatives(
        subject="Облако: создан клиент Ромашка",
        body=f"Здравствуйте! Чтобы задать пароль, откройте ссылку (она действует 7 дн.):\n{link}\n",
        to=["owner@client.example"],
        headers={"Message-ID": "<1@localhost>"},
    )
    message.attach_alternative(f'<p><a href="{link}">Задать пароль</a></p>', "text/html")

    ReadableConsoleBackend(stream=stream).send_messages([message])

    printed = stream.getvalue()
    assert "Subject: Облако: создан клиент Ромашка" in printed
    assert "Чтобы задать пароль" in printed
    assert f"\n{link}\n" in printed
    # Still a well-formed message.
    parsed = email.message_from_string(
        printed.split("\n" + "-" * 79)[0], policy=email.policy.default
    )
    assert parsed["Message-ID"] == "<1@localhost>"
    assert parsed.get_body(preferencelist=("plain",)).get_content().endswith(f"{link}\n")

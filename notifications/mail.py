"""A development email backend that prints messages as people read them."""

import email.policy

from django.core.mail.backends import console

# UTF-8 headers and 8-bit bodies up to the SMTP line limit: Cyrillic text is
# printed as text, not base64, so the password-setup link can be clicked.
READABLE_POLICY = email.policy.default.clone(max_line_length=998, utf8=True)


class ReadableConsoleBackend(console.EmailBackend):
    """Django's console backend (``EMAIL_BACKEND=console``, the development
    default), printing each message readably in the terminal of ``make run``."""

    def write_message(self, message) -> None:
        data = message.message(policy=READABLE_POLICY).as_bytes().decode("utf-8", "replace")
        self.stream.write(f"{data}\n{'-' * 79}\n")

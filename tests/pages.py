"""The Add client page as a browser without JavaScript submits it: the fields
a form renders, a select's options, and the always-present sections filled
with a valid private person.

Standard library only: the tests feed it Django's test responses and bench/
feeds it pages from a live server, where Django is not set up.
"""

from html.parser import HTMLParser

CREATE_FORM_ID = "client-create-form"


class FormFields(HTMLParser):
    """The name/value pairs a browser would submit from one form (submit
    buttons aside: the caller names the button it presses)."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields: dict[str, str] = {}
        self.rendered: list[str] = []  # every field name, in page order
        self.select: dict | None = None
        self.textarea: dict | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.inside = attributes.get("id") == self.form_id
            return
        if not self.inside:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            kind = attributes.get("type", "text")
            if kind in {"submit", "button", "image", "reset"}:
                return
            self.rendered.append(name)
            if kind in {"checkbox", "radio"}:
                if "checked" in attributes:
                    self.fields[name] = attributes.get("value") or "on"
                return
            self.fields[name] = attributes.get("value") or ""
        elif tag == "select" and name:
            self.rendered.append(name)
            self.select = {"name": name, "first": None, "selected": None}
        elif tag == "option" and self.select is not None:
            value = attributes.get("value", "")
            if self.select["first"] is None:
                self.select["first"] = value
            if "selected" in attributes:
                self.select["selected"] = value
        elif tag == "textarea" and name:
            self.rendered.append(name)
            self.textarea = {"name": name, "text": []}

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select is not None:
            chosen = self.select["selected"]
            self.fields[self.select["name"]] = (
                chosen if chosen is not None else self.select["first"]
            )
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.fields[self.textarea["name"]] = "".join(self.textarea["text"]).removeprefix("\n")
            self.textarea = None

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.textarea["text"].append(data)


def form_fields(html: str, form_id: str = CREATE_FORM_ID) -> FormFields:
    """The parsed form: ``fields`` to submit, ``rendered`` names in page order."""
    parser = FormFields(form_id)
    parser.feed(html)
    return parser


def form_data(html: str, form_id: str = CREATE_FORM_ID) -> dict[str, str]:
    """What submitting the form as rendered would send."""
    return dict(form_fields(html, form_id).fields)


class _Options(HTMLParser):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.inside = False
        self.items: list[list[str]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        if tag == "select":
            self.inside = attributes.get("name") == self.name
        elif tag == "option" and self.inside:
            self.items.append([attributes.get("value", ""), ""])

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.inside = False

    def handle_data(self, data: str) -> None:
        if self.inside and self.items:
            self.items[-1][1] += data.strip()


def select_options(html: str, name: str) -> list[tuple[str, str]]:
    """The (value, label) options of the select with this name."""
    parser = _Options(name)
    parser.feed(html)
    return [(value, label) for value, label in parser.items]


def person(data: dict, **extra: str) -> dict:
    """Fill the always-present sections with a valid private person and a new
    owner (in place; returns ``data``); ``extra`` changes any field."""
    data.update(
        {
            "contacts-region": "Москва",
            "contacts-city": "Москва",
            "contacts-postal_code": "125009",
            "contacts-address_line1": "ул. Тверская, 1",
            "contacts-phone": "+7 916 123-45-67",
            "contacts-email": "ivanov@example.com",
            "contract_person-first_name": "Иван",
            "contract_person-last_name": "Иванов",
            "contract_person-middle_name": "Петрович",
            "contract_person-email": "ivan@example.com",
            "owner-mode": "new",
            "owner-new_first_name": "Мария",
            "owner-new_last_name": "Иванова",
            "owner-new_email": "maria@example.com",
            "attributes-passport_series": "4510",
            "attributes-passport_number": "123456",
        }
    )
    data.update(extra)
    return data

"""Production-mode security: every panel page carries the Content-Security-
Policy and X-Frame-Options headers, and its HTML has nothing the policy would
block (inline scripts, on* handlers, style attributes)."""

from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.urls import reverse

from clients.models import AccessLevel, ClientAccess, PostpayPermission
from tests.conftest import make_client, make_user
from users.models import PostpayMode


class InlineCodeFinder(HTMLParser):
    """Collects what a strict CSP refuses: <script> without src, <style>,
    style="" and on*="" attributes, javascript: links."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name.lower(): value or "" for name, value in attrs}
        if tag == "script":
            self._in_script = "src" not in names
        if tag == "style":
            self.problems.append("<style> element")
        for name, value in names.items():
            if name == "style":
                self.problems.append(f'<{tag} style="{value}">')
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
            if name in {"href", "src", "action"} and value.strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"<{tag} {name}=javascript:…>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append(f"inline <script>: {data.strip()[:60]}")


def inline_code(html: str) -> list[str]:
    finder = InlineCodeFinder()
    finder.feed(html)
    return finder.problems


@pytest.fixture
def panel_pages(irina, irina_browser, root_reseller, root_rules, client_created_handler):
    root_reseller.postpay_mode = PostpayMode.MANUAL
    root_reseller.save()
    client = make_client(
        reseller=root_reseller,
        rules=root_rules,
        postpay_permission=PostpayPermission.APPROVAL_REQUIRED,
    )
    admin = make_user()
    ClientAccess.objects.create(client=client, user=admin, level=AccessLevel.ADMIN)
    return irina_browser, [
        reverse("clients:list"),
        reverse("clients:list") + "?q=<script>&status=deleted",
        reverse("clients:create"),
        reverse("clients:owner_search") + "?owner-query=Фамилия",
        reverse("clients:detail", args=[client.pk]),
        reverse("clients:status", args=[client.pk]) + "?status=administrative_hold",
        reverse("clients:postpay", args=[client.pk]) + "?decision=approved",
        reverse("clients:manager", args=[client.pk]),
        reverse("clients:user_add", args=[client.pk]),
        reverse("clients:user_search", args=[client.pk]) + "?user-query=Фамилия",
        reverse("clients:user_remove", args=[client.pk]) + f"?user={admin.pk}",
        reverse("clients:ownership_transfer", args=[client.pk]) + f"?user={admin.pk}",
        reverse("password_change"),
        reverse("password_change_done"),
        reverse("api_tokens:list"),
    ]


def test_every_panel_page_has_the_csp_and_no_inline_code(panel_pages):
    browser, urls = panel_pages
    for url in urls:
        response = browser.get(url)
        assert response.status_code == 200, url
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy
        assert "style-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert response["X-Frame-Options"] == "DENY"
        assert inline_code(response.content.decode()) == [], url


@pytest.mark.parametrize(
    "url_name",
    [
        "login",
        "password_reset",
        "password_reset_done",
        "welcome:password_setup",
        "welcome:terms_accept",
        "welcome:terms_accept_done",
        "api_v3:docs",
    ],
)
def test_public_pages_have_the_csp_and_no_inline_code(db, client, url_name):
    args = {
        "welcome:password_setup": ["MQ", "bad-token"],
        "welcome:terms_accept": ["bad-token"],
    }.get(url_name, [])
    response = client.get(reverse(url_name, args=args))
    assert response.status_code == 200
    assert "Content-Security-Policy" in response
    assert inline_code(response.content.decode()) == []


def test_the_finder_sees_inline_code():
    html = '<div style="x"><a onclick="y">z</a></div><script>alert(1)</script><style>p{}</style>'
    assert len(inline_code(html)) == 4


def test_htmx_is_told_not_to_inject_styles_or_eval(irina_browser):
    html = irina_browser.get(reverse("clients:list")).content.decode()
    assert '"includeIndicatorStyles": false' in html
    assert '"allowEval": false' in html


def test_session_expires_after_idle_minutes_and_cookies_are_guarded():
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_COOKIE_HTTPONLY is True
    assert settings.CSRF_COOKIE_HTTPONLY is True
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"
    assert settings.X_FRAME_OPTIONS == "DENY"


def test_each_request_moves_the_session_expiry_on(irina_browser):
    response = irina_browser.get(reverse("clients:list"))
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert int(cookie["max-age"]) == settings.SESSION_COOKIE_AGE

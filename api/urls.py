"""The reseller API v3, its OpenAPI document and its documentation page."""

from django.urls import path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerSplitView

from api import views

app_name = "api_v3"

urlpatterns = [
    # IDs are taken as text and read by the views: a malformed or huge ID
    # answers a JSON:API 404, not Django's HTML page or an overflow.
    path("resellers/<str:reseller_id>/accounts", views.AccountListView.as_view(), name="accounts"),
    path(
        "resellers/<str:reseller_id>/accounts/<str:account_id>",
        views.AccountDetailView.as_view(),
        name="account",
    ),
    path(
        "resellers/<str:reseller_id>/account_types",
        views.AccountTypeListView.as_view(),
        name="account_types",
    ),
    path(
        "resellers/<str:reseller_id>/service_rules",
        views.ServiceRuleListView.as_view(),
        name="service_rules",
    ),
    path("resellers/<str:reseller_id>/managers", views.ManagerListView.as_view(), name="managers"),
    path(
        "openapi.json",
        SpectacularJSONAPIView.as_view(authentication_classes=[], permission_classes=[]),
        name="schema",
    ),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api_v3:schema",
            template_name="api/swagger_ui.html",
            authentication_classes=[],
            permission_classes=[],
        ),
        name="docs",
    ),
]

from django.urls import path

from api import panel_views

app_name = "api_tokens"

urlpatterns = [
    path("", panel_views.token_list, name="list"),
    path("<int:token_id>/revoke/", panel_views.token_revoke, name="revoke"),
]

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

# A request that lost the database answers 503 "try again", not 500.
handler500 = "operations.views.server_error"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="clients:list"), name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("accounts/", include("users.urls")),
    path("clients/", include("clients.urls")),
    path("welcome/", include("clients.welcome_urls")),
    path("api/v3/", include("api.urls")),
    path("api-tokens/", include("api.panel_urls")),
]

if settings.BENCH_URLS:
    urlpatterns.append(path("bench/", include("bench.urls")))

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="clients:list"), name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("accounts/", include("users.urls")),
    path("clients/", include("clients.urls")),
    path("welcome/", include("clients.welcome_urls")),
]

if settings.BENCH_URLS:
    urlpatterns.append(path("bench/", include("bench.urls")))

"""URLs of the benchmark, mounted under /bench/ only when BENCH_URLS is on."""

from django.urls import path

from bench import stock_admin, views

urlpatterns = [
    path("floor/", views.floor, name="bench_floor"),
    path("stock-admin/", stock_admin.site.urls),
]

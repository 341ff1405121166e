"""The reference: stock Django admin's client changelist.

A second admin site with a plain ModelAdmin: the default paginator (COUNT of
every match, and of the whole table for "N of M"), ``search_fields`` on the
columns our list searches (ID, name, owner email, phone, INN value), the same
columns shown. Mounted only when the BENCH_URLS setting is on."""

from django.contrib import admin

from clients.models import Client

site = admin.AdminSite(name="stock_admin")


@admin.register(Client, site=site)
class StockClientAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "status", "client_type", "service_rule", "manager", "city"]
    list_select_related = ["client_type", "service_rule", "manager__user"]
    search_fields = ["=id", "name", "phone", "accesses__user__email", "attribute_values__value"]

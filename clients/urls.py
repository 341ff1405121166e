from django.urls import path

from clients import views

app_name = "clients"

urlpatterns = [
    path("", views.client_list, name="list"),
    path("export.csv", views.client_export, name="export"),
    path("create/", views.client_create, name="create"),
    path("create/type/", views.client_create_type, name="create_type"),
    path("create/owners/", views.client_owner_search, name="owner_search"),
    path("create/autofill/", views.client_autofill_suggest, name="autofill_suggest"),
    path("<int:client_id>/", views.client_detail, name="detail"),
    path("<int:client_id>/status/", views.client_status_change, name="status"),
    path("<int:client_id>/postpay/", views.client_postpay_decide, name="postpay"),
]

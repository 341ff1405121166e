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
    path("<int:client_id>/edit/", views.client_edit, name="edit"),
    path("<int:client_id>/edit/type/", views.client_edit_type, name="edit_type"),
    path("<int:client_id>/status/", views.client_status_change, name="status"),
    path("<int:client_id>/postpay/", views.client_postpay_decide, name="postpay"),
    path("<int:client_id>/manager/", views.client_manager_change, name="manager"),
    path("<int:client_id>/users/add/", views.client_user_add, name="user_add"),
    path("<int:client_id>/users/search/", views.client_user_search, name="user_search"),
    path("<int:client_id>/users/level/", views.client_user_level, name="user_level"),
    path("<int:client_id>/users/remove/", views.client_user_remove, name="user_remove"),
    path(
        "<int:client_id>/users/owner/", views.client_ownership_transfer, name="ownership_transfer"
    ),
]

from django.urls import path

from clients import views

app_name = "clients"

urlpatterns = [
    path("", views.client_list, name="list"),
    path("create/", views.client_create, name="create"),
    path("create/type/", views.client_create_type, name="create_type"),
    path("create/owners/", views.client_owner_search, name="owner_search"),
    path("<int:client_id>/", views.client_detail, name="detail"),
]

from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("done/", views.password_setup_done, name="password_setup_done"),
    path("<uidb64>/<token>/", views.password_setup, name="password_setup"),
]

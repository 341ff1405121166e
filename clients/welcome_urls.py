from django.urls import path

from clients import welcome as views

# The owner's welcome pages (clients/welcome.py), under /welcome/.
app_name = "welcome"

urlpatterns = [
    path("done/", views.password_setup_done, name="password_setup_done"),
    # Before "<uidb64>/<token>/", which would take "terms" for a user's ID.
    path("terms/accepted/", views.terms_accept_done, name="terms_accept_done"),
    path("terms/<str:token>/", views.terms_accept, name="terms_accept"),
    path("<uidb64>/<token>/", views.password_setup, name="password_setup"),
]

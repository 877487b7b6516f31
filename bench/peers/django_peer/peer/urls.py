"""The same two paths as ours, so one wrk script drives both."""

from django.urls import path

from peer import views

urlpatterns = [
    path("v1/auth/me", views.me),
    path("v1/auth/logout", views.logout_view),
]

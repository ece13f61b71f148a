"""The import's staff pages, under /staff/ (namespace "staff")."""

from django.urls import path

from imports import views

urlpatterns = [
    path("imports/template.<str:file_format>", views.template, name="import-template"),
    path("imports/<uuid:job_id>/status/", views.status, name="import-status"),
]

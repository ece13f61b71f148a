from django.urls import path

from retention import staff_views

urlpatterns = [
    path("", staff_views.desk, name="desk"),
    path("register/", staff_views.register, name="register"),
    path("register/register.<str:fmt>", staff_views.register_download, name="register-download"),
    path("dpia/", staff_views.dpia, name="dpia"),
    path("dpia/dpia.json", staff_views.dpia_json, name="dpia-json"),
]

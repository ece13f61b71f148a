from django.urls import path

from access.kiosk import kiosk

urlpatterns = [path("", kiosk, name="kiosk")]

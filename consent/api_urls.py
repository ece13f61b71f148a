"""Consent and face endpoints of the member API; mounted by members/api_urls.py."""

from django.urls import path

from consent.api import views as api

urlpatterns = [
    path("consents/documents/", api.DocumentsView.as_view(), name="consent-documents"),
    path("consents/", api.RecordsView.as_view(), name="consents"),
    path("consents/withdraw/", api.WithdrawView.as_view(), name="consent-withdraw"),
    path("face/", api.FaceView.as_view(), name="face"),
    path("face/photo/", api.FacePhotoView.as_view(), name="face-photo"),
]

"""The member's consent and face pages; mounted by members/portal_urls.py (namespace "portal").
The front desk's pages are staff pages: consent/staff_urls.py."""

from django.urls import path

from consent.portal import views

urlpatterns = [
    path("me/", views.home, name="home"),
    path("me/consents/<str:kind>/", views.consent_page, name="consent"),
    path("me/consents/<str:kind>/withdraw/", views.withdraw, name="withdraw"),
    path("me/receipts/<int:record_id>/", views.receipt, name="receipt"),
    path("me/face/", views.face, name="face"),
    path("me/face/delete/", views.face_delete, name="face-delete"),
    path("me/face/photo/", views.face_photo, name="face-photo"),
    path("guardian/<str:token>/", views.guardian_confirm, name="guardian-confirm"),
]

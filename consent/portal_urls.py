"""Consent, face and front-desk pages; mounted by members/portal_urls.py (namespace "portal")."""

from django.urls import path

from consent.portal import desk, views

urlpatterns = [
    path("me/", views.home, name="home"),
    path("me/consents/<str:kind>/", views.consent_page, name="consent"),
    path("me/consents/<str:kind>/withdraw/", views.withdraw, name="withdraw"),
    path("me/receipts/<int:record_id>/", views.receipt, name="receipt"),
    path("me/face/", views.face, name="face"),
    path("me/face/delete/", views.face_delete, name="face-delete"),
    path("me/face/photo/", views.face_photo, name="face-photo"),
    path("guardian/<str:token>/", views.guardian_confirm, name="guardian-confirm"),
    path("desk/", desk.search, name="desk"),
    path("desk/members/<int:member_id>/", desk.member_page, name="desk-member"),
    path("desk/members/<int:member_id>/photo/", desk.member_photo, name="desk-photo"),
    path("desk/reviews/", desk.reviews, name="desk-reviews"),
    path("desk/reviews/<int:member_id>/", desk.review, name="desk-review"),
    path("desk/reviews/<int:member_id>/photo/", desk.review_photo, name="desk-review-photo"),
]

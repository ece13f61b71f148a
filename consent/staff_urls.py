"""The front desk's staff pages (consent.desk), mounted under /staff/ by config/staff_urls.py
(namespace "staff")."""

from django.urls import path

from consent import desk

urlpatterns = [
    path("front-desk/", desk.search, name="front-desk"),
    path("front-desk/members/<int:member_id>/", desk.member_page, name="front-desk-member"),
    path("front-desk/members/<int:member_id>/photo/", desk.member_photo, name="front-desk-photo"),
    path("front-desk/reviews/", desk.reviews, name="front-desk-reviews"),
    path("front-desk/reviews/<int:member_id>/", desk.review, name="front-desk-review"),
    path("front-desk/reviews/<int:member_id>/photo/", desk.review_photo, name="front-desk-review-photo"),
]

urlpatterns: list = []  # filled by the door / member-portal work

from django.contrib import admin

from justface.admin_scoping import ScopedAdmin
from consent.models import ConsentDocument


@admin.register(ConsentDocument)
class ConsentDocumentAdmin(ScopedAdmin):
    list_display = ["kind", "language", "version", "title", "published_at", "requires_reconsent"]
    list_filter = ["kind", "language"]

"""The members app in the staff admin, by topic: ``chains`` (chains, centres, staff users),
``members``, ``requests`` (the data-subject request desk), ``exclusions`` and ``invitations``
(invitation rounds, every invitation's delivery). Importing this
package registers them."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from members.admin import chains, exclusions, invitations, members, requests
from members.admin.requests import DataSubjectRequestAdmin

admin.site.site_header = "Justface"
admin.site.site_title = "Justface"
admin.site.index_title = _("Staff administration")

__all__ = ["DataSubjectRequestAdmin", "chains", "exclusions", "invitations", "members", "requests"]

"""What a member is told, plainly, before agreeing to face scan: one source for the pages, the
desk screen, the guardian's page and the member API."""

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from members.policy import ChainPolicy


def biometric_facts(policy: ChainPolicy) -> list[str]:
    photo = (
        _(
            "Your photo is also kept, encrypted, so the staff of your centre can check it is you; only you and they can see it."
        )
        if policy.keep_member_photo
        else _("Your photo itself is not kept.")
    )
    days = policy.biometric_retention_days
    how_long = (
        ngettext(
            "How long: until you withdraw your consent, or at the latest %(days)d day after your membership ends.",
            "How long: until you withdraw your consent, or at the latest %(days)d days after your membership ends.",
            days,
        )
        % {"days": days}
        if days
        else _("How long: until you withdraw your consent, or at the latest when your membership ends.")
    )
    return [
        _(
            "Face scan is optional. Your PIN works instead at every door, always. Saying no changes nothing about your membership or your access."
        ),
        _(
            "What we store: a face template, a list of numbers computed from your photo that only our system can compare. It is encrypted."
        )
        + " "
        + photo,
        _(
            "What it is used for: only to recognise you at the door of your centres. Never for anything else, never shared."
        ),
        how_long,
        _(
            "At the door, and when you add a photo, we also check that the face is a live person and not a printed photo or a screen (a passive check of the picture, sometimes a request to turn your head a little). Only scores are recorded, no extra picture is kept."
        ),
        _("Withdrawing is one click, at any time. Your template and photos are then erased at once."),
        _(
            "You can enroll again after withdrawing or deleting your face data, at any time; the staff then check the new photo once, so that nobody else's face is enrolled on your membership. For that we keep only the day you deleted it (no photo, no template), with your membership details."
        ),
        _(
            "If we move to a better recognition method, your template is computed again, from your kept photo or from a clear picture the door takes when it recognises you; the old template is then erased. Your consent covers this; nothing else changes."
        ),
    ]

"""End a move between face models: erase every template of another model than the active one."""

from django.conf import settings
from django.core.management.base import BaseCommand

from members.faces import erase_retired_templates
from members.management.chains import chains_named


class Command(BaseCommand):
    help = (
        "Erase the templates of every model other than JUSTFACE_FACE_MODEL (for one chain, or all): members not "
        "yet moved then use the PIN until they renew their photo. Unset JUSTFACE_FACE_MODEL_PREVIOUS to end "
        "the move for every chain; the retention job then does the same."
    )

    def add_arguments(self, parser):
        parser.add_argument("--chain", help="Only this chain (its slug).")

    def handle(self, *args, chain: str | None = None, **options):
        chains = chains_named(chain)
        for c in chains:
            erased = erase_retired_templates(
                chain_id=c.pk, keep_models=[settings.FACE_MODEL], actor=None, reason="face model move ended"
            )
            self.stdout.write(f"{c.slug}: {erased} template(s) of other models erased.")

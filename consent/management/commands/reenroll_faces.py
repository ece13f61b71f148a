"""Move enrolled members to the active face model from their kept enrollment photos."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from consent.enrollment import pending_reenrollment, reenroll_member
from justface.face.convert import ModelError
from justface.face_runtime import get_engine
from members.management.chains import chains_named
from members.models import Member
from members.selectors import face_models_by_chain


class Command(BaseCommand):
    help = (
        "Compute active-model (JUSTFACE_FACE_MODEL) templates from the enrollment photos the chain keeps, for "
        "members whose face consent is valid. Resumable and idempotent; audited per member. --status prints, "
        "per chain, how many members have templates of which model."
    )

    def add_arguments(self, parser):
        parser.add_argument("--chain", help="Only this chain (its slug).")
        parser.add_argument("--status", action="store_true", help="Print the counts per model and change nothing.")

    def handle(self, *args, chain: str | None = None, status: bool = False, **options):
        chains = chains_named(chain)
        if status:
            counts = face_models_by_chain(chains.values_list("pk", flat=True))
            for c in chains:
                by_model = ", ".join(f"{m}: {n}" for m, n in counts.get(c.pk, {}).items()) or "no templates"
                self.stdout.write(f"{c.slug}: members with templates of {by_model} (active: {settings.FACE_MODEL})")
            return
        try:
            model = get_engine().model
        except ModelError as exc:
            raise CommandError(str(exc)) from None
        member_ids = sorted(
            {
                pending.member_id
                for c in chains
                for pending in pending_reenrollment(model=model, chain_id=c.pk).only("member_id")
            }
        )
        moved = refused = skipped = 0
        for member_id in tqdm(member_ids, desc=f"re-enrolling to {model}", unit="member", disable=None):
            member = Member.objects.select_related("chain").filter(pk=member_id).first()
            if member is None:
                continue  # erased meanwhile
            outcome = reenroll_member(member=member, actor=None)
            moved += outcome.moved
            refused += outcome.refused
            skipped += not (outcome.moved or outcome.refused)
        self.stdout.write(
            f"{len(member_ids)} member(s) with kept photos to move: {moved} photo(s) now have a {model} template, "
            f"{refused} refused by the enrollment gate, {skipped} member(s) skipped (no valid face consent)."
        )

"""A demo chain to click through: two centres, a manager, a front-desk user, a DPO and ~50
members. Safe to run again: it finds what is there and only adds what is missing."""

import os
import random
from datetime import date, timedelta

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from justface.models import User
from justface.tenancy import Role
from members.models import Centre, Chain, Member, StaffRole, member_number_hash

FIRST_NAMES = [
    "Anne",
    "Mette",
    "Sofie",
    "Ida",
    "Freja",
    "Ingrid",
    "Nora",
    "Emma",
    "Maja",
    "Sigrid",
    "Lars",
    "Søren",
    "Mads",
    "Rasmus",
    "Ole",
    "Henrik",
    "Jonas",
    "Magnus",
    "Kristian",
    "Emil",
]
LAST_NAMES = [
    "Jensen",
    "Nielsen",
    "Hansen",
    "Pedersen",
    "Andersen",
    "Christensen",
    "Larsen",
    "Sørensen",
    "Rasmussen",
    "Johansen",
    "Olsen",
    "Berg",
    "Haugen",
    "Hagen",
    "Bakken",
    "Dahl",
    "Lund",
    "Holm",
]
WEEKDAYS = {d: [["06:00", "22:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
WEEKEND = {d: [["08:00", "18:00"]] for d in ("sat", "sun")}
DEMO_PASSWORD = "justface-demo"
STAFF = [
    ("manager", Role.MANAGER, ["norrebro", "vesterbro"]),
    ("frontdesk", Role.FRONT_DESK, ["norrebro"]),
    ("dpo", Role.DPO, []),
]
MEMBER_COUNT = 50


class Command(BaseCommand):
    help = (
        "Create (or complete) the demo chain, its centres, staff logins and members, a door per centre "
        "with its token, and a few weeks of synthetic (demo) access events."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--open-all-hours",
            action="store_true",
            help="Open the demo centres around the clock (to try the door at night); without it, new "
            "centres get 06-22 on weekdays and 08-18 at weekends, and existing ones keep their hours.",
        )

    @transaction.atomic
    def handle(self, *args, **options):
        chain, _ = Chain.objects.get_or_create(
            slug="demo",
            defaults=dict(
                name="Demo Fitness",
                organisation_number="DK12345678",
                country="DK",
                default_language="da",
                dpo_name="Demo DPO",
                dpo_email="dpo@demo-fitness.example",
            ),
        )
        centres = {}
        for slug, name, address in [
            ("norrebro", "Demo Fitness Nørrebro", "Nørrebrogade 1, 2200 København N"),
            ("vesterbro", "Demo Fitness Vesterbro", "Vesterbrogade 1, 1620 København V"),
        ]:
            centres[slug], _ = Centre.objects.get_or_create(
                chain=chain,
                slug=slug,
                defaults=dict(
                    name=name, address=address, time_zone="Europe/Copenhagen", opening_hours={**WEEKDAYS, **WEEKEND}
                ),
            )
        if options["open_all_hours"]:
            Centre.objects.filter(chain=chain).update(opening_hours={})  # empty: always open
        logins = []
        for username, role, centre_slugs in STAFF:
            user, created = User.objects.get_or_create(username=username, defaults={"is_staff": True})
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            staff_role, _ = StaffRole.objects.get_or_create(user=user, defaults={"chain": chain, "role": role})
            staff_role.centres.set([centres[s] for s in centre_slugs])
            logins.append(
                (
                    username,
                    role.label,
                    DEMO_PASSWORD if user.check_password(DEMO_PASSWORD) else "(changed since the demo was made)",
                )
            )

        rng = random.Random(2026)  # the same demo people on every machine
        added = 0
        for n in range(1, MEMBER_COUNT + 1):
            number = f"D{n:05d}"
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            birth = date(1960, 1, 1) + timedelta(days=rng.randrange(0, 365 * 48))
            if Member.objects.filter(chain=chain, member_number_hash=member_number_hash(number)).exists():
                continue
            Member.objects.create(
                chain=chain,
                home_centre=centres["norrebro" if n % 3 else "vesterbro"],
                member_number=number,
                first_name=first,
                last_name=last,
                birth_date=birth,
                email=f"{first}.{last}.{n}@example.com".lower().replace("ø", "o"),
                phone=f"+45 {20000000 + n * 7919:08d}",
                address=f"Demovej {n}, 2200 København N",
                membership_type="Basic" if n % 4 else "Premium",
                start_date=date(2024, 1, 1) + timedelta(days=n * 7),
                status=Member.Status.ENDED if n % 17 == 0 else Member.Status.ACTIVE,
            )
            added += 1

        # By name: the documents are consent's, which sits above members.
        call_command("seed_consent_documents", chain=chain.slug, stdout=self.stdout)
        # By name too: doors and access events are access's.
        call_command("seed_demo_access", chain=chain.slug, stdout=self.stdout)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo chain '{chain.name}': {len(centres)} centres, "
                f"{Member.objects.filter(chain=chain).count()} members ({added} new)."
            )
        )
        url = (settings.JUSTFACE_PUBLIC_URL or f"http://127.0.0.1:{os.environ.get('PORT', '8000')}").rstrip("/")
        hours = (
            "open around the clock" if options["open_all_hours"] else "opening hours as set (--open-all-hours: 24/7)"
        )
        self.stdout.write(f"Centres (slugs): {', '.join(sorted(centres))}; chain slug: {chain.slug}; {hours}.")
        self.stdout.write(f"Staff logins at {url}/admin/ :")
        for username, role, password in logins:
            self.stdout.write(f"  {username:<10} {role:<24} password: {password}")

"""Portability: everything held about a member in one ZIP, from the personal-data registry."""

from __future__ import annotations

import io
import json
import zipfile

from django.utils import timezone

from justface import audit, personal_data, private_files
from members.models import Member

# Portability -----------------------------------------------------------------------------


def _image_suffix(data: bytes) -> str:
    return {"jpeg": "jpg", "png": "png", "webp": "webp"}.get(private_files.image_type(data), "bin")


def export_member_data(*, member: Member, actor) -> bytes:
    """A ZIP of everything held about the member: one JSON file per category (index.json says
    what each is for, its legal basis and how long it is kept) and the kept photos."""
    categories = personal_data.held_about(member)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        index = {
            "exported_at": timezone.now().isoformat(),
            "controller": member.chain.name,
            "dpo_email": member.chain.dpo_email,
            "categories": [],
        }
        for category in categories:
            archive.writestr(f"{category.key}.json", json.dumps(category.data, ensure_ascii=False, indent=2))
            photos = []
            for n, name in enumerate(category.photos, start=1):
                content = private_files.read(name)
                photos.append(f"photos/{category.key}-{n}.{_image_suffix(content)}")
                archive.writestr(photos[-1], content)
            index["categories"].append(
                {
                    "file": f"{category.key}.json",
                    "title": str(category.title),
                    "purpose": str(category.purpose),
                    "legal_basis": str(category.legal_basis),
                    "retention": str(category.retention),
                    "photos": photos,
                }
            )
        archive.writestr("index.json", json.dumps(index, ensure_ascii=False, indent=2))
    audit.record(action="member.export_self", actor=actor, obj=member, reason="portability")
    return buffer.getvalue()


# Data-subject requests -------------------------------------------------------------------

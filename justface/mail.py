"""E-mails to members and guardians: rendered in the reader's language, sent only once the
transaction that made them commits (a rolled-back invitation sends nothing)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation


def public_url(path: str, request=None) -> str:
    """An absolute link for an e-mail. JUSTFACE_PUBLIC_URL wins (commands have no request, and a
    link in an e-mail should never depend on the Host header a client sent)."""
    base = settings.JUSTFACE_PUBLIC_URL
    if base:
        return base.rstrip("/") + path
    if request is not None:
        return request.build_absolute_uri(path)
    raise RuntimeError("Set JUSTFACE_PUBLIC_URL to the site's address (e.g. https://gym.example.com) to send links.")


def render(*, template: str, context: dict, language: str) -> tuple[str, str]:
    """`<template>_subject.txt` (on one line) and `<template>_body.txt`, in `language`."""
    with translation.override(language):
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        body = render_to_string(f"{template}_body.txt", context)
    return subject, body


def send_on_commit(*, to: str, template: str, context: dict, language: str) -> None:
    """Render the e-mail in `language`; send it after commit."""
    subject, body = render(template=template, context=context, language=language)
    transaction.on_commit(lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to]))


def send_now(*, to: str, template: str, context: dict, language: str) -> None:
    """Render and hand the e-mail to the mail server at once: the mail server's refusal (an
    smtplib.SMTPException, or OSError when it cannot be reached) reaches the caller, which
    records it (the background worker's invitation rounds)."""
    subject, body = render(template=template, context=context, language=language)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to], fail_silently=False)

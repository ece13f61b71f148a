"""Print the server's door signing public key, or make a new key pair for a rotation (README, Door agents)."""

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from access import door_signing


class Command(BaseCommand):
    help = (
        "Print the public key (ed25519:<kid>:<base64>) the door agents are paired with. With --new: print a new "
        "private key for JUSTFACE_DOOR_SIGNING_KEY (first line) and its public key (second line); nothing is stored."
    )

    def add_arguments(self, parser):
        parser.add_argument("--new", action="store_true", help="Make a new key pair for a rotation.")

    def handle(self, *args, new: bool, **options):
        if new:
            key = Ed25519PrivateKey.generate()
            raw = key.private_bytes(
                serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
            )
            self.stderr.write("A new door signing key. Keep the first line secret; pair the agents with the second.")
            self.stdout.write(base64.b64encode(raw).decode())
            self.stdout.write(door_signing.SigningKey(key).public_text)
            return
        try:
            self.stdout.write(door_signing.signing_key().public_text)
        except (ImproperlyConfigured, OSError) as exc:
            raise CommandError(f"The door signing key cannot be used: {exc}") from None

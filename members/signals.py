"""Signals for apps above members (which members may not import) to act on member events."""

from django.dispatch import Signal

# Sent by members.faces.erase_biometrics inside its transaction, with `member`. Receivers
# erase the biometric data they hold for that member (door photos, ...), deleting files only
# once the transaction commits (transaction.on_commit), and return how many items they erased
# (the member's receipt counts them).
biometrics_erased = Signal()

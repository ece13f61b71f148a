"""How retention's codes read to people (justface.display)."""

from justface import display
from retention.models import ErasureJob

display.register("retention.erasure_kind", ErasureJob.Kind.choices)

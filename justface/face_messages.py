"""What a member is told when a photo is refused, by the face engine's reason code."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _

ENROLLMENT_MESSAGES = {
    "no_consent": _("Face scan needs your explicit consent first. You can always use your PIN instead."),
    "no_face": _("We could not find a face in the photo. Face the camera in good light and try again."),
    "multiple_faces": _("There is more than one face in the photo. Take a photo of just yourself."),
    "face_too_small": _("Your face is too small in the photo. Hold the camera closer."),
    "low_confidence": _("We could not see your face clearly. Face the camera straight on and try again."),
    "blurry": _("The photo is blurred. Hold still and try again."),
    "too_dark": _("The photo is too dark. Move to better light and try again."),
    "too_bright": _("The photo is too bright. Avoid strong light behind or straight on you."),
    "not_an_image": _("That file is not a photo. Upload a JPEG, PNG or WebP image."),
    "corrupt_image": _("The photo could not be read; it may be damaged. Try another one."),
    "pending_review": _(
        "This photo does not look like the face you enrolled before, so the staff will check it. "
        "Until they approve it, the door recognises you as before."
    ),
    "image_too_large": _(
        "The photo has too many pixels. Use one of at most %(megapixels)s megapixels (for example "
        "%(example)s pixels; a WebP photo at most a quarter of that)."
    ),
    "unsupported_format": _("This type of file is not accepted. Upload a JPEG, PNG or WebP photo."),
    "busy": _("The face check is busy right now. Try again in a moment."),
    # A member who deleted their face data (or withdrew face consent) enrolls again.
    "pending_review_after_erasure": _(
        "You deleted your face data before, so a new face is checked once by the staff before the door "
        "uses it. Show yourself at the front desk; until then, use your PIN."
    ),
    "too_many_reviews": _(
        "You have reached the limit of photos the staff check in one day (%(count)d). Wait for them to "
        "check the one you sent, or try again tomorrow."
    ),
    "not_live": _("Take a photo of yourself, not of a photo or a screen. Face the camera in good light and try again."),
}
FALLBACK = _("The photo could not be used. Try another one.")


def enrollment_message(reason: str) -> str:
    message = str(ENROLLMENT_MESSAGES.get(reason, FALLBACK))
    if reason == "image_too_large":
        side = int(settings.IMAGE_MAX_PIXELS**0.5)
        message %= {"megapixels": f"{settings.IMAGE_MAX_PIXELS / 1e6:.1f}", "example": f"{side}×{side}"}
    return message

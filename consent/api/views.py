"""The consent and face endpoints of the member API (serializers in consent.api.serializers)."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from consent import selectors, services
from consent.api.serializers import (
    FaceSerializer,
    PendingReviewSerializer,
    ReceiptSerializer,
    RecordSerializer,
    SignSerializer,
    StateSerializer,
    WithdrawSerializer,
)
from consent.enrollment import MAX_PHOTO_BYTES, TOO_MANY_REVIEWS, enroll_face
from consent.models import ConsentDocument, ConsentRecord
from justface import private_files
from members.api.base import MemberAPIView
from members.faces import erase_biometrics
from members.models import PendingFacePhoto

TAGS = ["member consent and face"]


class DocumentsView(MemberAPIView):
    @extend_schema(
        tags=TAGS,
        responses=StateSerializer(many=True),
        parameters=[OpenApiParameter("language", str, description="da, nb or en (default: Accept-Language)")],
        summary="The documents to sign now, with where the member stands on each",
    )
    def get(self, request):
        language = request.query_params.get("language") or get_language()
        return Response(StateSerializer(selectors.consent_states(request.member, language), many=True).data)


class RecordsView(MemberAPIView):
    @extend_schema(
        tags=TAGS, responses=RecordSerializer(many=True), summary="Every consent record of the member (append-only)"
    )
    def get(self, request):
        records = ConsentRecord.objects.filter(member=request.member).select_related("document").order_by("-at", "-id")
        return Response(RecordSerializer(records, many=True).data)

    @extend_schema(
        tags=TAGS,
        request=SignSerializer,
        responses={
            201: RecordSerializer,
            400: OpenApiResponse(description="detail says why"),
            404: OpenApiResponse(description="No such document in the member's chain"),
        },
        summary="Sign a document (a minor's biometric consent also needs guardian_name and guardian_email)",
    )
    def post(self, request):
        data = SignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        document = ConsentDocument.objects.filter(
            pk=data.validated_data["document"], chain_id=request.member.chain_id
        ).first()
        if document is None:
            raise Http404
        record = services.sign(
            member=request.member,
            document=document,
            typed_name=data.validated_data["typed_name"],
            evidence=services.Evidence.of(request, ConsentRecord.Channel.API),
            actor=request.user,
            guardian_name=data.validated_data["guardian_name"],
            guardian_email=data.validated_data["guardian_email"],
            request=request,
        )
        return Response(RecordSerializer(record).data, status=status.HTTP_201_CREATED)


class WithdrawView(MemberAPIView):
    @extend_schema(
        tags=TAGS,
        request=WithdrawSerializer,
        responses={201: RecordSerializer},
        summary="Withdraw a consent; for biometric the template and photos are erased at once (see receipt)",
    )
    def post(self, request):
        data = WithdrawSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        record = services.withdraw(
            member=request.member,
            kind=data.validated_data["kind"],
            actor=request.user,
            evidence=services.Evidence.of(request, ConsentRecord.Channel.API),
        )
        return Response(RecordSerializer(record).data, status=status.HTTP_201_CREATED)


class FaceView(MemberAPIView):
    parser_classes = [MultiPartParser]

    def _status(self, member) -> dict:
        template = selectors.face_status(member)
        pending = PendingFacePhoto.objects.filter(member=member).first()
        return {
            "enrolled": template is not None,
            "enrolled_at": template.created_at if template else None,
            "photo_kept": bool(template and template.photo_file),
            "consent_active": selectors.biometric_consent_active(member),
            "renew_photo": selectors.needs_new_photo(member),
            "pending_review": pending is not None,
            "pending_since": pending.created_at if pending else None,
        }

    @extend_schema(tags=TAGS, responses=FaceSerializer, summary="Whether the member's face is enrolled")
    def get(self, request):
        return Response(FaceSerializer(self._status(request.member)).data)

    @extend_schema(
        tags=TAGS,
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"image": {"type": "string", "format": "binary"}},
                "required": ["image"],
            }
        },
        responses={
            201: OpenApiResponse(FaceSerializer, description="Enrolled: the first photo, or one of the same person"),
            202: OpenApiResponse(
                PendingReviewSerializer,
                description="The member already has an enrolled face and this photo does not match it at the "
                "face model's measured threshold, or the member deleted their face data (or withdrew face "
                "consent) before, so there is nothing to compare with: nothing changed; the photo waits "
                "(encrypted) for staff to "
                "approve or reject it. status and code are pending_review; detail is the sentence to show. A "
                "client that only knows 201 must show detail and not report the face as enrolled anew.",
            ),
            400: OpenApiResponse(
                description="detail and code (the engine's reason) say why: e.g. unsupported_format (only JPEG, "
                "PNG or WebP), image_too_large (more pixels than JUSTFACE_IMAGE_MAX_PIXELS; detail says the limit)"
            ),
            503: OpenApiResponse(description="code busy: the face engine stayed busy for 10 s; send it again"),
            429: OpenApiResponse(
                description="code too_many_reviews: this member already had JUSTFACE_PENDING_FACE_PHOTOS_PER_DAY "
                "photos held for staff review in the last 24 hours; nothing was kept. detail is the sentence to show."
            ),
        },
        summary="Enroll the face from a selfie (needs active biometric consent); a new photo of a member "
        "already enrolled must match the enrolled face, or staff review it",
    )
    def post(self, request):
        upload = request.FILES.get("image")
        if upload is None:
            return Response(
                {"detail": _("Send the photo as the multipart field 'image'."), "code": "missing_image"}, status=400
            )
        if upload.size > MAX_PHOTO_BYTES:
            return Response(
                {"detail": _("The photo is too large. Use one under 8 MB."), "code": "image_too_large"}, status=400
            )
        outcome = enroll_face(
            member=request.member, image=upload.read(), actor=request.user, channel=PendingFacePhoto.Channel.API
        )
        if outcome.pending_review:
            body = {
                "status": outcome.reason,
                "code": outcome.reason,
                "detail": outcome.message,
                "face": self._status(request.member),
            }
            return Response(PendingReviewSerializer(body).data, status=status.HTTP_202_ACCEPTED)
        if outcome.reason == TOO_MANY_REVIEWS:
            return Response(
                {"detail": outcome.message, "code": outcome.reason}, status=status.HTTP_429_TOO_MANY_REQUESTS
            )
        if not outcome.ok:
            # busy: the face engine stayed taken (the door's scans first); the same photo works later.
            code = status.HTTP_503_SERVICE_UNAVAILABLE if outcome.reason == "busy" else status.HTTP_400_BAD_REQUEST
            return Response({"detail": outcome.message, "code": outcome.reason}, status=code)
        return Response(FaceSerializer(self._status(request.member)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=TAGS,
        responses={200: ReceiptSerializer},  # a receipt: 200, not spectacular's 204 for DELETE
        summary="Delete the face template and photos now (the consent stands; withdraw it through /consents/withdraw/)",
    )
    def delete(self, request):
        return Response(
            ReceiptSerializer(
                erase_biometrics(member=request.member, actor=request.user, reason="member deleted face", remember=True)
            ).data
        )


class FacePhotoView(MemberAPIView):
    @extend_schema(
        tags=TAGS,
        responses={(200, "image/*"): OpenApiTypes.BINARY, 404: None},
        summary="The kept enrollment photo, if the chain keeps one",
    )
    def get(self, request):
        template = selectors.face_status(request.member)
        if template is None or not template.photo_file:
            raise Http404
        return private_files.image_response(template.photo_file)

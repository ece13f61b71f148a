from rest_framework import serializers

from members.models import DataSubjectRequest, Member


class LoginSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(trim_whitespace=False, write_only=True)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField(
        help_text="When the token stops working (JUSTFACE_API_TOKEN_DAYS after it was issued); "
        "a new password, a logout or the member's erasure ends it sooner. Then log in again."
    )


class ProfileSerializer(serializers.ModelSerializer):
    chain = serializers.CharField(source="chain.name", read_only=True)
    home_centre = serializers.CharField(source="home_centre.name", read_only=True)
    pin_set = serializers.SerializerMethodField()

    class Meta:
        model = Member
        fields = [
            "member_number",
            "first_name",
            "last_name",
            "email",
            "phone",
            "address",
            "birth_date",
            "gender",
            "chain",
            "home_centre",
            "status",
            "membership_type",
            "start_date",
            "end_date",
            "pin_set",
            "pin_set_at",
        ]
        read_only_fields = [
            "member_number",
            "email",
            "birth_date",
            "chain",
            "home_centre",
            "status",
            "membership_type",
            "start_date",
            "end_date",
            "pin_set",
            "pin_set_at",
        ]

    def get_pin_set(self, member: Member) -> bool:
        return bool(member.pin_hash)


class EmailChangeSerializer(serializers.Serializer):
    new_email = serializers.EmailField()


class PinSerializer(serializers.Serializer):
    pin = serializers.CharField(write_only=True)


class DataSubjectRequestSerializer(serializers.ModelSerializer):
    class Meta:
        model = DataSubjectRequest
        fields = ["id", "kind", "objection_to", "message", "status", "received_at", "due_at", "resolved_at", "response"]
        read_only_fields = ["id", "status", "received_at", "due_at", "resolved_at", "response"]
        extra_kwargs = {"objection_to": {"required": False}, "message": {"required": False}}

"""The member API (/api/v1/me/...): what a mobile app uses, calling the same services as the
portal. Token authentication (rest_framework.authtoken); the consent and face endpoints are
consent.api's, mounted by members/api_urls.py."""

"""Member API for consent and face: documents, records (sign, withdraw), face (upload, delete).
Same services as the portal pages; mounted under /api/v1/me/ by members/api_urls.py."""

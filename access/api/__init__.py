"""The door tablet's REST API, version 1 (/api/v1/door/): views and their serializers."""

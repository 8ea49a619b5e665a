"""Intake: the one pipeline every channel's reports go through (``service``), duplicate
detection, the hotline / WeChat text parser, photos, and the reports' own tables. The HTTP
routes of each channel are in ``backend.api.routes`` (REST, Open311, the QR pages)."""

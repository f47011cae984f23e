"""Refuse oversized uploads before reading them whole."""

from __future__ import annotations

from django.core.files.uploadhandler import FileUploadHandler, StopUpload


def declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class LimitedUploadHandler(FileUploadHandler):
    """Stops receiving a file as soon as it passes ``limit`` bytes (the body is not read on)."""

    def __init__(self, request=None, *, limit: int):
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None

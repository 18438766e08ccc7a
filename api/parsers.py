"""Request parsers whose refusals are in words for the person sending the request."""

from django.core.exceptions import TooManyFilesSent
from rest_framework.exceptions import ParseError
from rest_framework.parsers import MultiPartParser

from collections_app.uploads import unreadable_upload_text


class UploadMultiPartParser(MultiPartParser):
    """DRF's multipart parser; a body Django cannot read (a file name over the part header limit, too many
    files) is a 400 that says why, instead of the parser's own message or a bare 400 page."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except ParseError as exc:
            # DRF raises ParseError inside its `except MultiPartParserError`, so the cause is the context.
            raise ParseError(unreadable_upload_text(exc.__context__ or exc)) from exc
        except TooManyFilesSent as exc:
            raise ParseError(unreadable_upload_text(exc)) from exc

"""Failure reasons stored as codes with parameters; the English sentences stored before become codes."""

import re

from django.db import migrations, models

# The sentences processing used to store, with the code each one is now (dedup.imaging.errors.Failure).
_SENTENCES = (
    ("empty", "The file is empty."),
    ("out_of_memory", "The image is too large to process safely (it does not fit in memory)."),
    ("too_large", "The image is too large to process safely (%(pixels)s megapixels, limit %(limit)s)."),
    ("too_large", "The image is too large to process safely (limit %(limit)s)."),
    ("header_unreadable", "The image is truncated or corrupt: the %(format)s header could not be read."),
    ("corrupt", "The image is truncated or corrupt: %(detail)s."),
    ("heif_unsupported", "Not an image this system can read (HEIC/HEIF/AVIF photos are not supported yet)."),
    ("pdf_document", "Not an image this system can read (looks like a PDF document)."),
    ("text_document", "Not an image this system can read (looks like HTML/SVG/text)."),
    (
        "unsupported_type",
        "Not an image this system can read (unsupported file type; expected JPEG, PNG, TIFF, WebP, GIF or BMP).",
    ),
    ("polyglot", "The file is an image with a web page, script or archive hidden in it, so it is refused."),
    ("stored_file_missing", "The stored file is missing."),
    ("storage_unreadable", "The stored file could not be read: %(detail)s"),
    ("timed_out", "Processing took too long and was stopped."),
    ("unexpected", "An unexpected error stopped processing; the file is kept. Reference: version %(version)s."),
)


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"%\\\((\w+)\\\)s", r"(?P<\1>.+?)", re.escape(template)), re.S)


def sentence_to_code(text: str) -> tuple[str, dict]:
    for code, template in _SENTENCES:
        if match := _pattern(template).fullmatch(text):
            return code, match.groupdict()
    return "recorded", {"text": text}  # kept word for word, never lost


def code_to_sentence(code: str, params: dict) -> str:
    if code == "recorded":
        return params.get("text", "")
    for known, template in _SENTENCES:
        if known == code and set(re.findall(r"%\((\w+)\)s", template)) == set(params):
            return template % params
    return code


def forwards(apps, schema_editor):
    Version = apps.get_model("collections_app", "Version")
    for version in Version.objects.exclude(error="").only("error").iterator(chunk_size=2000):
        version.error_code, version.error_params = sentence_to_code(version.error)
        version.save(update_fields=["error_code", "error_params"])


def backwards(apps, schema_editor):
    Version = apps.get_model("collections_app", "Version")
    for version in Version.objects.exclude(error_code="").iterator(chunk_size=2000):
        version.error = code_to_sentence(version.error_code, version.error_params)
        version.save(update_fields=["error"])


class Migration(migrations.Migration):
    dependencies = [("collections_app", "0007_version_queued_at")]

    operations = [
        migrations.AddField(
            model_name="version",
            name="error_code",
            field=models.CharField(blank=True, max_length=40, verbose_name="processing error"),
        ),
        migrations.AddField(
            model_name="version",
            name="error_params",
            field=models.JSONField(blank=True, default=dict, verbose_name="processing error details"),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.RemoveField(model_name="version", name="error"),
    ]

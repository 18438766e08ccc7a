"""The verification statement: what a copy check found, kept as codes and facts, worded in the reader's language.

The facts are captured when the check is made (time, audit chain head, the authority on record) and carried
signed in the page, so the PDF issued later says exactly what the page said and nothing submitted is stored.
"""

import base64
import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core import signing
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from collections_app.models import AuditEvent, Item
from collections_app.services import SYSTEM_ACTOR, audit_record
from collections_app.templatetags.site_time import site_time_text
from dedup.imaging.formats import GREY_MODES
from dedup.imaging.renditions import THUMB_PREVIEW
from dedup.models import MatchKind
from dedup.reasons import reason_text
from dedup.services import version_preview_ensure
from records.copy_check import ItemAnswer, Verification, VersionMatch, difference_label
from records.side_by_side import picture_pair

logger = logging.getLogger(__name__)

ACTION = "statement.issue"
SALT = "records.statement"
MAX_AGE = 6 * 3600  # s; a check older than this is checked again before a statement is issued
MAX_PICTURES = 3  # items shown with pictures; further matches are listed in words
SAME_SHAPE = 0.02

# What turns the submitted copy into the stored version, as the reader would do it to the paper.
TURNS = {
    "rot90": "rotated",
    "rot270": "rotated",
    "rot180": "rotated",
    "flip_h": "mirrored",
    "flip_v": "mirrored",
    "transpose": "rotated_mirrored",
    "transverse": "rotated_mirrored",
}


class StatementExpired(Exception):
    """The signed facts are too old or were altered: the copy must be checked again."""


# --- facts: codes and values, captured at check time -------------------------------------------------


def _version_facts(version) -> dict:
    return {
        "id": version.pk,
        "filename": version.original_filename,
        "source": version.source.name,
        "sha256": version.sha256,
        "width": version.width,
        "height": version.height,
        "format": version.format,
        "uploaded_at": version.uploaded_at.isoformat(),
        "page_number": version.page_number,  # a page of a PDF: which page matched
    }


def _traits(submitted, match: VersionMatch) -> list[str]:
    """Codes for how a near or rotated copy departs from the stored version, from the comparison's evidence."""
    evidence, stored = match.evidence, match.version
    traits = []
    transform = evidence.get("transform") or "identity"
    if transform in TURNS:
        traits.append(TURNS[transform])
    sizes = (submitted.width, submitted.height), (stored.width, stored.height)
    if transform in ("rot90", "rot270", "transpose", "transverse"):
        sizes = (submitted.height, submitted.width), sizes[1]
    (sw, sh), (vw, vh) = sizes
    if vw and vh and sw and sh:
        if abs(sw / sh - vw / vh) > SAME_SHAPE * (vw / vh) or evidence.get("compared") == "content":
            traits.append("reframed")
        elif (sw, sh) != (vw, vh):
            traits.append("resized")
    fingerprint = match.fingerprint
    if fingerprint is not None and submitted.mode in GREY_MODES and fingerprint.mode not in GREY_MODES:
        traits.append("greyscale")
    if submitted.format != stored.format:
        traits.append("reformatted")
    if not traits and match.kind == MatchKind.NEAR:
        traits.append("recompressed")
    return traits


def _pictures(submitted, match: VersionMatch | None) -> dict | None:
    fingerprint = match.fingerprint if match else None
    preview = submitted.thumbnails.get(THUMB_PREVIEW)
    name = fingerprint and (fingerprint.thumb_preview or version_preview_ensure(version_id=fingerprint.version_id))
    if not name or not preview:
        return None
    try:
        with default_storage.open(name, "rb") as handle:
            stored = handle.read()
    except OSError as exc:
        logger.warning("No preview for version %s: %s", fingerprint.version_id, exc)
        return None
    evidence = match.evidence
    pair = picture_pair(
        submitted_preview=preview,
        stored_preview=stored,
        transform=evidence.get("transform") or "identity",
        region=evidence.get("region") if evidence.get("compared") != "content" else None,
        rendition_size=(fingerprint.rendition_width, fingerprint.rendition_height),
    )
    return {
        "version": match.version.pk,
        "submitted": base64.b64encode(pair.submitted).decode(),
        "stored": base64.b64encode(pair.stored).decode(),
        "transform": evidence.get("transform") or "identity",
        "outlined": pair.outlined,
    }


def _answer_facts(submitted, answer: ItemAnswer, with_pictures: bool) -> dict:
    item, chosen, match = answer.item, answer.authoritative, answer.authoritative_match
    compared = match or answer.matches[0]
    if answer.is_authoritative:
        verdict = "authoritative"
    elif chosen is None:
        verdict = "no_authoritative"
    elif match is None:
        verdict = "other_version"
    else:
        verdict = "copy"
    decision = answer.decision
    return {
        "item": {"id": item.pk, "identifier": item.identifier, "title": item.title, "title_zh": item.title_zh},
        "verdict": verdict,
        "kind": compared.kind,
        "traits": _traits(submitted, compared) if compared.kind in (MatchKind.NEAR, MatchKind.ROTATED) else [],
        "region": bool(compared.evidence.get("region")),
        "compared_version": compared.version.pk,
        "authoritative": _version_facts(chosen) if chosen else None,
        "decision": {
            "how": decision.how,
            "actor": decision.actor,
            "at": decision.at.isoformat(),
            "reason": decision.reason,
            "requested_by": decision.requested_by,
        }
        if decision
        else None,
        "matches": [
            {
                **_version_facts(m.version),
                "kind": m.kind,
                "authoritative": bool(chosen and m.version.pk == chosen.pk),
                # Why verification called it a copy, as a code with its numbers (an exact copy has none).
                "reason": m.evidence.get("reason") or "",
                "reason_params": m.evidence.get("reason_params") or {},
            }
            for m in answer.matches
        ],
        "differences": [[d.field, d.submitted, d.authoritative] for d in answer.differences],
        "pictures": _pictures(submitted, compared) if with_pictures else None,
    }


def statement_facts(verification: Verification, *, checked_by: str, pictures: bool = True) -> dict:
    """Everything the statement says, as codes and values (no words), JSON-ready."""
    sub = verification.submitted
    return {
        "checked_at": (verification.checked_at or timezone.now()).isoformat(),
        "checked_by": checked_by,
        "chain_head": verification.chain_head,
        "submitted": {
            "sha256": sub.sha256,
            "byte_size": sub.byte_size,
            "format": sub.format,
            "width": sub.width,
            "height": sub.height,
        },
        "answers": [_answer_facts(sub, a, pictures and n < MAX_PICTURES) for n, a in enumerate(verification.items)],
    }


def facts_sign(facts: dict) -> str:
    return signing.dumps(facts, salt=SALT, compress=True)


def facts_unsign(token: str) -> dict:
    try:
        return signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature as exc:  # SignatureExpired is one
        raise StatementExpired from exc


# --- words: rendered in the active language whenever shown -------------------------------------------


def when(value: str | datetime) -> str:
    """A time as every page shows it: the site's time zone and short format, with the zone named."""
    return site_time_text(parse_datetime(value) if isinstance(value, str) else value)


def _trait_words(codes: list[str]) -> str:
    # Looked up here, not at import, so each reader gets their language.
    words = {
        "rotated": pgettext("a copy that is", "rotated"),
        "mirrored": pgettext("a copy that is", "mirrored"),
        "rotated_mirrored": pgettext("a copy that is", "rotated and mirrored"),
        "reframed": pgettext("a copy that is", "cropped or reframed"),
        "resized": pgettext("a copy that is", "resized"),
        "greyscale": pgettext("a copy that is", "greyscale"),
        "reformatted": pgettext("a copy that is", "re-saved in another format"),
        "recompressed": pgettext("a copy that is", "recompressed"),
    }
    return pgettext("between words describing a copy", ", ").join(words.get(c, c) for c in codes)


def verdict_words(answer: dict) -> str:
    """The one plain sentence a reader needs: what this file is, in relation to the item's authoritative version."""
    params = {"item": answer["item"]["identifier"]}
    verdict, kind = answer["verdict"], answer["kind"]
    if verdict == "authoritative":
        return _("This file is the authoritative version of %(item)s itself, byte for byte.") % params
    if verdict == "no_authoritative":
        return _("This file is a copy of a version of %(item)s; no authoritative version of it has been chosen.") % (
            params
        )
    if verdict == "other_version":
        return _(
            "This file is a copy of version %(version)s of %(item)s, which is not its authoritative version; "
            "it is not the authoritative file."
        ) % {**params, "version": answer["compared_version"]}
    if kind == MatchKind.EXACT:
        return _("This file is the authoritative version of %(item)s itself, byte for byte.") % params
    if kind == MatchKind.SAME_PIXELS:
        return (
            _(
                "This file has the same pixels as the authoritative version of %(item)s but was saved again "
                "(its file or embedded metadata differ); it is not the authoritative file itself."
            )
            % params
        )
    traits = answer["traits"]
    if not traits:
        return (
            _("This file is a copy of the authoritative version of %(item)s; it is not the authoritative file itself.")
            % params
        )
    return _(
        "This file is a %(how)s copy of the authoritative version of %(item)s; it is not the authoritative file itself."
    ) % {**params, "how": _trait_words(traits)}


def decision_words(decision: dict | None) -> tuple[str, str]:
    """Who chose the authoritative version and when; and the reason on record."""
    if decision is None:
        return _("The audit trail holds no record of how this version became authoritative."), ""
    # Files stored by `manage.py ingest` have no person behind them; the audit trail names the actor "system".
    who = decision["actor"] if decision["actor"] != SYSTEM_ACTOR else _("the folder import")
    params = {"who": who, "when": when(decision["at"]), "asker": decision["requested_by"]}
    how = decision["how"]
    if how == "approved":
        text = _("Chosen as authoritative by %(asker)s and approved by %(who)s on %(when)s.") % params
    elif how == "merged":
        text = _("Chosen as authoritative by %(who)s when merging duplicates on %(when)s.") % params
    elif how == "uploaded":
        text = (
            _(
                "Authoritative because it was the item's first version, stored by %(who)s on %(when)s; "
                "nobody has chosen another since."
            )
            % params
        )
    else:
        text = _("Chosen as authoritative by %(who)s on %(when)s.") % params
    reason = decision["reason"].strip()
    return text, (_("Reason on record: “%(reason)s”") % {"reason": reason} if reason else _("No reason is on record."))


def kind_words(kind: str) -> str:
    return str(MatchKind(kind).label) if kind in MatchKind.values else kind


def alignment_words(pictures: dict | None) -> str:
    if not pictures:
        return ""
    turned = pictures["transform"] != "identity"
    if turned and pictures["outlined"]:
        return _("The submitted copy is shown turned to stand as the stored version does; the outlined region differs.")
    if turned:
        return _("The submitted copy is shown turned to stand as the stored version does.")
    if pictures["outlined"]:
        return _("The outlined region differs (a caption, credit line or watermark); the rest is the same picture.")
    return ""


@dataclass
class AnswerWords:
    facts: dict
    verdict: str
    decision: str
    reason: str
    alignment: str
    matches: list[dict] = field(default_factory=list)
    differences: list[tuple[str, str, str]] = field(default_factory=list)
    submitted_picture: str = ""  # base64 JPEG
    stored_picture: str = ""
    stored_label: str = ""


@dataclass
class StatementWords:
    facts: dict
    checked_at: str
    matched: bool
    answers: list[AnswerWords]


def _answer_words(answer: dict) -> AnswerWords:
    decision, reason = decision_words(answer["decision"]) if answer["authoritative"] else ("", "")
    pictures = answer["pictures"]
    matches = [
        {
            **m,
            "kind_words": kind_words(m["kind"]),
            "uploaded": when(m["uploaded_at"]),
            "reason_words": reason_text(m.get("reason", ""), m.get("reason_params")),
        }
        for m in answer["matches"]
    ]
    stored_label = ""
    if pictures:
        is_auth = answer["authoritative"] and pictures["version"] == answer["authoritative"]["id"]
        params = {"version": pictures["version"], "item": answer["item"]["identifier"]}
        stored_label = (
            _("Authoritative version (version %(version)s of %(item)s)") % params
            if is_auth
            else _("Version %(version)s of %(item)s (not the authoritative version)") % params
        )
    return AnswerWords(
        facts=answer,
        verdict=verdict_words(answer),
        decision=decision,
        reason=reason,
        alignment=alignment_words(pictures),
        matches=matches,
        differences=[(difference_label(key), a, b) for key, a, b in answer["differences"]],
        submitted_picture=pictures["submitted"] if pictures else "",
        stored_picture=pictures["stored"] if pictures else "",
        stored_label=stored_label,
    )


def statement_words(facts: dict) -> StatementWords:
    """The statement in the active language, for the page and the PDF alike."""
    return StatementWords(
        facts=facts,
        checked_at=when(facts["checked_at"]),
        matched=bool(facts["answers"]),
        answers=[_answer_words(a) for a in facts["answers"]],
    )


# --- issuing: the PDF, its SHA-256 recorded in the audit trail ---------------------------------------


@dataclass(frozen=True)
class IssuedStatement:
    pdf: bytes
    sha256: str
    event: AuditEvent


def statement_issue(*, facts: dict, actor: Any, language: str) -> IssuedStatement:
    """Render the statement as a PDF and record its SHA-256, so anyone can later check a copy of it."""
    from records.statement_pdf import statement_pdf  # reportlab is loaded only when a statement is issued

    pdf = statement_pdf(statement_words(facts))
    digest = hashlib.sha256(pdf).hexdigest()
    items = [a["item"]["identifier"] for a in facts["answers"]]
    target = Item.objects.filter(pk=facts["answers"][0]["item"]["id"]).first() if facts["answers"] else None
    event = audit_record(
        actor=actor,
        action=ACTION,
        target=target or actor,
        after={
            "sha256": digest,
            "byte_size": len(pdf),
            "checked_at": facts["checked_at"],
            "chain_head": facts["chain_head"],
            "submitted_sha256": facts["submitted"]["sha256"],
            "items": items,
            "verdicts": [a["verdict"] for a in facts["answers"]],
            "language": language,
        },
    )
    return IssuedStatement(pdf, digest, event)


def statement_find(*, sha256: str) -> AuditEvent | None:
    """The audit event that issued the statement with this SHA-256, if any."""
    return AuditEvent.objects.filter(action=ACTION, after__sha256=sha256.lower()).order_by("pk").first()

"""The one idempotency-key rule and the one request fingerprint (invariant I6).

Every way money comes in (a single posting, a batch item, a reversal, a bill row) names its
idempotency key with :func:`posting_key` and fingerprints what the caller asked for with
:func:`fingerprint`. A key seen before with the same fingerprint replays the first result; with
another fingerprint it is a conflict.

``FINGERPRINT_VERSION`` 1 is the canonical JSON of the request's fields (sorted keys, ``", "``
and ``": "`` separators, non-ASCII kept), hashed with SHA-256: byte for byte the text single
postings hashed before the write paths were unified, so every key stored before still replays.
A change to the text is a new version, and replays must then accept both.
"""

from __future__ import annotations

import hashlib
import json

FINGERPRINT_VERSION = 1
#: ``postings.idempotency_key`` holds 200 characters; a caller's own key may use 180 of them
KEY_SIZE = 180

_ENCODE = json.JSONEncoder(sort_keys=True, default=str, ensure_ascii=False).encode
_STRING = json.encoder.encode_basestring  # what _ENCODE writes for a str, without the walk


def _json(value) -> str:
    """One value as :data:`_ENCODE` writes it inside the fingerprint's object."""
    if value is None:
        return "null"
    if type(value) is str:
        return _STRING(value)
    if type(value) is int:
        return str(value)
    return _ENCODE(value)


def posting_key(
    explicit: str | None, trade_no: str | None, source: str, external_id: str | None
) -> str | None:
    """The explicit key, else ``trade:{trade_no}``, else ``{source}:{external_id}``, else none.

    The last form is also a platform flow's identity: a flow posted by hand with
    ``source=alipay, external_id=F`` and row F of an Alipay bill share the key ``alipay:F``.
    """
    if explicit:
        return explicit
    if trade_no:
        return f"trade:{trade_no}"
    if external_id:
        return f"{source}:{external_id}"
    return None


def fingerprint(fields: dict) -> str:
    """SHA-256 hex of the canonical JSON of ``fields`` (version :data:`FINGERPRINT_VERSION`)."""
    return hashlib.sha256(_ENCODE(fields).encode()).hexdigest()


def transfer_fingerprint(source, target, amount: str) -> str:
    """:func:`fingerprint` of a plain transfer (``amount`` as the text :func:`fingerprint`
    would hold; no description, trade number, trade time, operator, remark or external id;
    source ``internal``), written from a template: the same text for a fifth of the work, for
    batches of keyed transfers."""
    text = (
        f'{{"amount": "{amount}", "description": null, "external_id": null, '
        f'"from": {_ENCODE(source)}, "kind": "transfer", "operator_id": null, "remark": null, '
        f'"source": "internal", "to": {_ENCODE(target)}, "trade_no": null, "trade_time": null}}'
    )
    return hashlib.sha256(text.encode()).hexdigest()


def simple_fingerprint(
    kind: str, account, amount: str, description: str, category_id: int | None,
    subject_id: int | None, counterparty: str | None, trade_no: str | None,
    trade_time: str | None, operator_id: int | None, remark: str | None, source: str,
    external_id: str | None,
) -> str:  # fmt: skip
    """:func:`fingerprint` of an income or expense's fields (``trade_time`` as ISO text),
    written from a template: the same text for a fraction of the work, for bill rows."""
    text = (
        f'{{"account": {_json(account)}, "amount": {_json(amount)}, '
        f'"category_id": {_json(category_id)}, "counterparty": {_json(counterparty)}, '
        f'"description": {_json(description)}, "external_id": {_json(external_id)}, '
        f'"kind": {_json(kind)}, "operator_id": {_json(operator_id)}, '
        f'"remark": {_json(remark)}, "source": {_json(source)}, '
        f'"subject_id": {_json(subject_id)}, "trade_no": {_json(trade_no)}, '
        f'"trade_time": {_json(trade_time)}}}'
    )
    return hashlib.sha256(text.encode()).hexdigest()

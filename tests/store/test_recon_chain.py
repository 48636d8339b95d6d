"""The recon audit trail's hash (zhangben/store/recon_chain.py): the JSON array it hashes is
written out by hand, for speed; it must be exactly what ``json.dumps`` makes, or the hashes
of events stored before would no longer verify."""

from __future__ import annotations

import hashlib
import json

from hypothesis import given
from hypothesis import strategies as s

from zhangben.store import recon_chain

texts = s.text(alphabet=s.characters(codec="utf-8"), max_size=20)
maybe = s.none() | texts  # before, after, reason; the others are NOT NULL


@given(
    id_=s.integers(1, 2**63 - 1), at=texts, actor=texts, action=texts, subject_type=texts,
    subject_id=texts, before=maybe, after=maybe, reason=maybe,
)  # fmt: skip
def test_the_hash_is_of_the_json_array(id_, at, actor, action, subject_type, subject_id, before,
                                       after, reason):  # fmt: skip
    fields = [id_, at, actor, action, subject_type, subject_id, before, after, reason]
    text = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    expected = hashlib.sha256(("0" * 64 + text).encode("utf-8")).hexdigest()
    assert recon_chain._hash("0" * 64, *fields) == expected


def test_a_known_event_keeps_its_hash():
    """A fixed event and its hash as the first version computed it: a change of the text
    hashed fails here, before any stored chain does."""
    row = {
        "id": 3, "at": None, "actor": "rule:1", "action": "matched", "subject_type": "group",
        "subject_id": 17, "before": None, "after": '{"a":"对账 \\"x\\""}', "reason": None,
    }  # fmt: skip
    text = (
        '[3,"2026-12-04T00:00:00.000000+00:00","rule:1","matched","group","17",null,'
        '"{\\"a\\":\\"对账 \\\\\\"x\\\\\\"\\"}",null]'
    )
    assert text == json.dumps(
        [3, "2026-12-04T00:00:00.000000+00:00", "rule:1", "matched", "group", "17", None,
         row["after"], None], ensure_ascii=False, separators=(",", ":"),
    )  # fmt: skip
    expected = hashlib.sha256(("f" * 64 + text).encode("utf-8")).hexdigest()
    assert recon_chain.event_hash("f" * 64, row, "2026-12-04T00:00:00.000000+00:00") == expected

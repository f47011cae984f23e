"""``manage.py evaluate_rag``: the built-in question set by default, another one with ``--corpus``."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from rag.evaluation import CORPUS_PATH, load_corpus

pytestmark = pytest.mark.django_db

SMALL = {
    "documents": [
        {"key": "boiler", "title": "Boiler", "language": "en",
         "text": "# Boiler\n\n## Service\n\nThe boiler is serviced every October by the heating engineer.\n"},
        {"key": "garden", "title": "Garden", "language": "en",
         "text": "# Garden\n\n## Tomatoes\n\nWater the tomatoes twice a week and feed them in July.\n"},
    ],
    "questions": [
        {"id": "L1", "kind": "lexical", "question": "When is the boiler serviced?", "document": "boiler",
         "section": "Service"},
        {"id": "P1", "kind": "paraphrased", "question": "How often should I water my plants?",
         "document": "garden", "section": "Tomatoes"},
    ],
}


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("evaluate_rag", *args, stdout=out)
    return out.getvalue()


def test_the_built_in_set_lives_with_the_package_not_the_tests():
    assert CORPUS_PATH.parent.name == "data" and "tests" not in CORPUS_PATH.parts
    assert len(load_corpus().questions) == 60


def test_a_corpus_given_by_path_is_measured_and_the_throwaway_user_is_gone(tmp_path):
    path = tmp_path / "questions.json"
    path.write_text(json.dumps(SMALL), encoding="utf-8")
    users = User.objects.count()
    output = run("--corpus", str(path), "--embedder", "static", "--grid")
    assert "Embedder static: 2 documents" in output and "2 questions (1 lexical, 1 paraphrased)" in output
    assert "lexical      vector" in output and "recall@5" in output and "(1/1)" in output
    assert "by text weight" in output
    assert User.objects.count() == users


def test_an_unreadable_corpus_is_refused_with_its_reason(tmp_path):
    missing = tmp_path / "missing.json"
    with pytest.raises(CommandError, match="cannot read the question set"):
        run("--corpus", str(missing), "--embedder", "static")
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({**SMALL, "questions": [{**SMALL["questions"][0], "document": "nope"}]}))
    with pytest.raises(CommandError, match="no document 'nope'"):
        run("--corpus", str(broken), "--embedder", "static")

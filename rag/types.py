"""What retrieval hands to the chat: numbered passages and what each citation number links to.

The chat adapts these for the model (``agents.providers.Passage``) and stores each ``Citation`` with
the answer; rag itself knows nothing of the providers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Citation:
    """What ``[number]`` in an answer links to: one passage of one of the person's documents."""

    number: int
    title: str  # the document's title
    url: str  # the passage on its document's page
    document_id: str
    position: int  # the passage's position in its document
    # The passage's opening words as the answer's source chip shows them on hover (answers stored
    # before it existed have none: readers of ``metadata["citations"]`` use ``.get("snippet", "")``).
    snippet: str = ""

    def as_json(self) -> dict:
        """The shape kept in an answer's ``metadata["citations"]`` (keyed by number) and sent to the page."""
        shape = {"url": self.url, "title": self.title, "document_id": self.document_id, "position": self.position}
        if self.snippet:
            shape["snippet"] = self.snippet
        return shape


@dataclass(frozen=True)
class CitedPassage:
    """A retrieved passage, numbered for the model to cite."""

    citation: Citation
    text: str

"""Graph paths: a next link is followed only on the collection it pages."""

from __future__ import annotations

import pytest
from graphrestore_gateway.graph.paths import next_link_query

COLLECTION = (
    "https://graph.microsoft.com/v1.0/solutions/backupRestore/exchangeRestoreSessions/s%201"
    "/mailboxRestoreArtifactsBulkAdditionRequests"
)


def test_a_next_link_keeps_every_option_as_given() -> None:
    upper = COLLECTION.replace("graph.microsoft", "GRAPH.microsoft")
    link = upper + "?$skiptoken=a%3D%3D&$top=7&x="
    assert next_link_query(link, COLLECTION) == {"$skiptoken": "a==", "$top": "7", "x": ""}


@pytest.mark.parametrize(
    "link",
    [
        COLLECTION.replace("graph.microsoft.com", "graph.microsoft.com.evil.test") + "?$skip=1",
        COLLECTION.replace("https:", "http:") + "?$skip=1",
        COLLECTION.replace("graph.microsoft.com", "graph.microsoft.com:8443") + "?$skip=1",
        COLLECTION.replace("s%201", "s%202") + "?$skip=1",
        COLLECTION + "/../../restoreSessions?$skip=1",
    ],
)
def test_a_next_link_off_the_collection_is_not_followed(link: str) -> None:
    assert next_link_query(link, COLLECTION) is None

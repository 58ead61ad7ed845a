"""The three workloads the gateway restores, and all that differs between them: the
gRPC service, the names of its RPCs and messages, and Graph's names for its sessions.
Everything else (pipeline, policy, records, audit, budget, the servicer) is one code
path for all three."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

from google.protobuf.descriptor import ServiceDescriptor
from graphrestore.v1 import exchange_restore_service_pb2 as exchange_pb
from graphrestore.v1 import onedrive_restore_service_pb2 as onedrive_pb
from graphrestore.v1 import restore_session_pb2 as pb
from graphrestore.v1 import sharepoint_restore_service_pb2 as sharepoint_pb

from graphrestore_gateway.graph import paths

# The form each name must have (restore/validation.py says what each form looks like).
NameForm = Literal["email", "site_url", "site_id", "graph_id"]


@dataclass(frozen=True)
class BulkName:
    """One list a bulk request names what it restores by."""

    # The request's field.
    field: str
    # Graph's property for it.
    graph_key: str
    # What an audit record calls one of its items.
    item: str
    form: NameForm


DRIVES = BulkName("drives", "drives", "drive", "email")
SITE_WEB_URLS = BulkName("site_web_urls", "siteWebUrls", "site_web_url", "site_url")
SITE_IDS = BulkName("site_ids", "siteIds", "site_id", "site_id")
MAILBOXES = BulkName("mailboxes", "mailboxes", "mailbox", "email")
DIRECTORY_OBJECT_IDS = BulkName(
    "directory_object_ids", "directoryObjectIds", "directory_object_id", "graph_id"
)
# Every workload's bulk request may name protection units; the gateway never sends
# them to Graph as such (documented as not implemented).
PROTECTION_UNIT_IDS = BulkName(
    "protection_unit_ids", "protectionUnitIds", "protection_unit_id", "graph_id"
)


@dataclass(frozen=True)
class Workload:
    # As a policy names it.
    name: str
    service: ServiceDescriptor
    # What its RPC names call an artifact: Add{noun}RestoreArtifacts...
    noun: str
    # The RestoreSession field (and request field) of its artifacts.
    artifact_field: str
    artifact_type: type[Any]
    bulk_type: type[Any]
    sessions: paths.Sessions
    # Bulk request fields naming what it restores by name (e-mail, URL), which no unit
    # rule can check, and by directory object id (drives: checkable through Graph).
    bulk_names: tuple[BulkName, ...]
    bulk_object_ids: tuple[BulkName, ...] = ()
    # The RestoreSession field of artifacts a create may carry instead (Exchange).
    granular_field: str = ""
    # Whether bulk requests may name protection units (sent as their drives' owners).
    bulk_by_unit: bool = False
    # The RestoreSession field of files and folders picked by browsing, which a create
    # may carry instead (OneDrive, SharePoint; "" for none), and their message type.
    browsed_field: str = ""
    browsed_type: type[Any] | None = None

    def rpc(self, pattern: str) -> str:
        """An RPC name of this workload: "Add{noun}RestoreArtifacts" -> AddSite..."""
        return pattern.format(noun=self.noun)

    def scoped(self, name: str) -> str:
        """A name in this workload's own space: ownership keys, request records and page
        token listings of one workload never meet another's. OneDrive's keep the form
        they had before the other workloads came, so nothing recorded before is lost."""
        return name if self is ONEDRIVE else f"{self.name}:{name}"

    def artifacts_of(self, message: Any) -> list[Any]:
        return list(getattr(message, self.artifact_field))

    @property
    def artifact_ids_field(self) -> str:
        """The request field naming artifacts to remove: drive_restore_artifact_ids..."""
        return f"{self.artifact_field.removesuffix('s')}_ids"

    def created_field(self, session: Any) -> str:
        """The RestoreSession field a create's artifacts are in: the granular mailbox
        artifacts (Exchange) or browsed items (OneDrive, SharePoint) when it carries any,
        else the workload's own."""
        for field in (self.granular_field, self.browsed_field):
            if field and getattr(session, field):
                return field
        return self.artifact_field

    @property
    def browsed_ids_field(self) -> str:
        """The request field naming browsed items to remove: granular_drive_..._ids."""
        return f"{self.browsed_field.removesuffix('s')}_ids"

    @property
    def browses(self) -> bool:
        """Whether its files and folders can be browsed and restored one by one."""
        return bool(self.browsed_field)

    def contents_of(self, artifacts: list[Any], granular: bool) -> str:
        """What a create of `artifacts` asks Graph to make, as one fingerprint: this
        workload, whether they are granular, and each one's restore point, destination
        and search, in any order. Two creates with equal fingerprints would make drafts
        no one can tell apart: the request store lists pending creates by it."""
        each = sorted(
            [a.restore_point.id, a.destination_type, getattr(a, "search_response_id", "")]
            for a in artifacts
        )
        asked = json.dumps([self.name, granular, each], separators=(",", ":"))
        return hashlib.sha256(asked.encode()).hexdigest()

    def browse_session_contents_of(self, point_id: str) -> str:
        """What a browse session create asks Graph to make, as one fingerprint (never
        equal to another create's): this workload's browse session of the point."""
        asked = json.dumps([self.name, "browse", point_id], separators=(",", ":"))
        return hashlib.sha256(asked.encode()).hexdigest()

    def browsed_contents_of(self, items: list[Any]) -> str:
        """What a create of files and folders picked by browsing asks Graph to make, as
        one fingerprint (never equal to contents_of's): this workload, and each item's
        browse session and item key, in any order."""
        each = sorted([item.browse_session_id, item.id] for item in items)
        asked = json.dumps([self.name, "browsed", each], separators=(",", ":"))
        return hashlib.sha256(asked.encode()).hexdigest()


ONEDRIVE = Workload(
    "onedrive",
    onedrive_pb.DESCRIPTOR.services_by_name["OneDriveRestoreService"],
    "Drive",
    "drive_restore_artifacts",
    pb.DriveRestoreArtifact,
    pb.DriveRestoreArtifactsBulkAdditionRequest,
    paths.ONEDRIVE,
    bulk_names=(DRIVES,),
    bulk_object_ids=(DIRECTORY_OBJECT_IDS,),
    bulk_by_unit=True,
    browsed_field="granular_drive_restore_artifacts",
    browsed_type=pb.GranularDriveRestoreArtifact,
)
SHAREPOINT = Workload(
    "sharepoint",
    sharepoint_pb.DESCRIPTOR.services_by_name["SharePointRestoreService"],
    "Site",
    "site_restore_artifacts",
    pb.SiteRestoreArtifact,
    pb.SiteRestoreArtifactsBulkAdditionRequest,
    paths.SHAREPOINT,
    bulk_names=(SITE_WEB_URLS, SITE_IDS),
    browsed_field="granular_site_restore_artifacts",
    browsed_type=pb.GranularSiteRestoreArtifact,
)
EXCHANGE = Workload(
    "exchange",
    exchange_pb.DESCRIPTOR.services_by_name["ExchangeRestoreService"],
    "Mailbox",
    "mailbox_restore_artifacts",
    pb.MailboxRestoreArtifact,
    pb.MailboxRestoreArtifactsBulkAdditionRequest,
    paths.EXCHANGE,
    # A mailbox's directory object id names its owner; Graph documents no way to find
    # the mailbox unit from it, so no unit rule can check it either.
    bulk_names=(MAILBOXES, DIRECTORY_OBJECT_IDS),
    granular_field="granular_mailbox_restore_artifacts",
)
WORKLOADS = {w.name: w for w in (ONEDRIVE, SHAREPOINT, EXCHANGE)}
# Every list any workload's bulk request names what it restores by, as Graph sends it.
BULK_NAMES = {
    name.field: name
    for workload in WORKLOADS.values()
    for name in (*workload.bulk_names, *workload.bulk_object_ids)
}

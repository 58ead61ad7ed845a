from google.protobuf import empty_pb2 as _empty_pb2
from graphrestore.v1 import browse_session_pb2 as _browse_session_pb2
from graphrestore.v1 import onedrive_restore_service_pb2 as _onedrive_restore_service_pb2
from graphrestore.v1 import restore_session_pb2 as _restore_session_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AddSiteRestoreArtifactsRequest(_message.Message):
    __slots__ = ("restore_session_id", "site_restore_artifacts", "request_id")
    RESTORE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_RESTORE_ARTIFACTS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    restore_session_id: str
    site_restore_artifacts: _containers.RepeatedCompositeFieldContainer[_restore_session_pb2.SiteRestoreArtifact]
    request_id: str
    def __init__(self, restore_session_id: _Optional[str] = ..., site_restore_artifacts: _Optional[_Iterable[_Union[_restore_session_pb2.SiteRestoreArtifact, _Mapping]]] = ..., request_id: _Optional[str] = ...) -> None: ...

class AddSiteRestoreArtifactsResponse(_message.Message):
    __slots__ = ("added", "failed")
    ADDED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    added: _containers.RepeatedCompositeFieldContainer[_restore_session_pb2.SiteRestoreArtifact]
    failed: _containers.RepeatedCompositeFieldContainer[_restore_session_pb2.SiteRestoreArtifact]
    def __init__(self, added: _Optional[_Iterable[_Union[_restore_session_pb2.SiteRestoreArtifact, _Mapping]]] = ..., failed: _Optional[_Iterable[_Union[_restore_session_pb2.SiteRestoreArtifact, _Mapping]]] = ...) -> None: ...

class RemoveSiteRestoreArtifactsRequest(_message.Message):
    __slots__ = ("restore_session_id", "site_restore_artifact_ids", "request_id")
    RESTORE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_RESTORE_ARTIFACT_IDS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    restore_session_id: str
    site_restore_artifact_ids: _containers.RepeatedScalarFieldContainer[str]
    request_id: str
    def __init__(self, restore_session_id: _Optional[str] = ..., site_restore_artifact_ids: _Optional[_Iterable[str]] = ..., request_id: _Optional[str] = ...) -> None: ...

class RemoveSiteRestoreArtifactsResponse(_message.Message):
    __slots__ = ("removed_ids", "failed")
    REMOVED_IDS_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    removed_ids: _containers.RepeatedScalarFieldContainer[str]
    failed: _containers.RepeatedCompositeFieldContainer[_restore_session_pb2.SiteRestoreArtifact]
    def __init__(self, removed_ids: _Optional[_Iterable[str]] = ..., failed: _Optional[_Iterable[_Union[_restore_session_pb2.SiteRestoreArtifact, _Mapping]]] = ...) -> None: ...

class ListSiteRestoreArtifactsRequest(_message.Message):
    __slots__ = ("restore_session_id", "page_size", "page_token")
    RESTORE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    restore_session_id: str
    page_size: int
    page_token: str
    def __init__(self, restore_session_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListSiteRestoreArtifactsResponse(_message.Message):
    __slots__ = ("site_restore_artifacts", "next_page_token")
    SITE_RESTORE_ARTIFACTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    site_restore_artifacts: _containers.RepeatedCompositeFieldContainer[_restore_session_pb2.SiteRestoreArtifact]
    next_page_token: str
    def __init__(self, site_restore_artifacts: _Optional[_Iterable[_Union[_restore_session_pb2.SiteRestoreArtifact, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CreateSiteRestoreArtifactsBulkAdditionRequestRequest(_message.Message):
    __slots__ = ("restore_session_id", "bulk_addition_request", "request_id", "validate_only")
    RESTORE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    BULK_ADDITION_REQUEST_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    restore_session_id: str
    bulk_addition_request: _restore_session_pb2.SiteRestoreArtifactsBulkAdditionRequest
    request_id: str
    validate_only: bool
    def __init__(self, restore_session_id: _Optional[str] = ..., bulk_addition_request: _Optional[_Union[_restore_session_pb2.SiteRestoreArtifactsBulkAdditionRequest, _Mapping]] = ..., request_id: _Optional[str] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class GetSiteRestoreArtifactsBulkAdditionRequestRequest(_message.Message):
    __slots__ = ("restore_session_id", "bulk_addition_request_id")
    RESTORE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    BULK_ADDITION_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    restore_session_id: str
    bulk_addition_request_id: str
    def __init__(self, restore_session_id: _Optional[str] = ..., bulk_addition_request_id: _Optional[str] = ...) -> None: ...

class ListSiteRestoreArtifactsBulkAdditionRequestsRequest(_message.Message):
    __slots__ = ("restore_session_id",)
    RESTORE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    restore_session_id: str
    def __init__(self, restore_session_id: _Optional[str] = ...) -> None: ...

class ListSiteRestoreArtifactsBulkAdditionRequestsResponse(_message.Message):
    __slots__ = ("bulk_addition_requests",)
    BULK_ADDITION_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    bulk_addition_requests: _containers.RepeatedCompositeFieldContainer[_restore_session_pb2.SiteRestoreArtifactsBulkAdditionRequest]
    def __init__(self, bulk_addition_requests: _Optional[_Iterable[_Union[_restore_session_pb2.SiteRestoreArtifactsBulkAdditionRequest, _Mapping]]] = ...) -> None: ...

class ListGranularSiteRestoreArtifactsRequest(_message.Message):
    __slots__ = ("restore_session_id", "page_token")
    RESTORE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    restore_session_id: str
    page_token: str
    def __init__(self, restore_session_id: _Optional[str] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListGranularSiteRestoreArtifactsResponse(_message.Message):
    __slots__ = ("granular_site_restore_artifacts", "next_page_token")
    GRANULAR_SITE_RESTORE_ARTIFACTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    granular_site_restore_artifacts: _containers.RepeatedCompositeFieldContainer[_restore_session_pb2.GranularSiteRestoreArtifact]
    next_page_token: str
    def __init__(self, granular_site_restore_artifacts: _Optional[_Iterable[_Union[_restore_session_pb2.GranularSiteRestoreArtifact, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class AddGranularSiteRestoreArtifactsRequest(_message.Message):
    __slots__ = ("restore_session_id", "granular_site_restore_artifacts", "request_id")
    RESTORE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    GRANULAR_SITE_RESTORE_ARTIFACTS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    restore_session_id: str
    granular_site_restore_artifacts: _containers.RepeatedCompositeFieldContainer[_restore_session_pb2.GranularSiteRestoreArtifact]
    request_id: str
    def __init__(self, restore_session_id: _Optional[str] = ..., granular_site_restore_artifacts: _Optional[_Iterable[_Union[_restore_session_pb2.GranularSiteRestoreArtifact, _Mapping]]] = ..., request_id: _Optional[str] = ...) -> None: ...

class AddGranularSiteRestoreArtifactsResponse(_message.Message):
    __slots__ = ("added", "failed")
    ADDED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    added: _containers.RepeatedCompositeFieldContainer[_restore_session_pb2.GranularSiteRestoreArtifact]
    failed: _containers.RepeatedCompositeFieldContainer[_restore_session_pb2.GranularSiteRestoreArtifact]
    def __init__(self, added: _Optional[_Iterable[_Union[_restore_session_pb2.GranularSiteRestoreArtifact, _Mapping]]] = ..., failed: _Optional[_Iterable[_Union[_restore_session_pb2.GranularSiteRestoreArtifact, _Mapping]]] = ...) -> None: ...

class RemoveGranularSiteRestoreArtifactsRequest(_message.Message):
    __slots__ = ("restore_session_id", "granular_site_restore_artifact_ids", "request_id")
    RESTORE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    GRANULAR_SITE_RESTORE_ARTIFACT_IDS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    restore_session_id: str
    granular_site_restore_artifact_ids: _containers.RepeatedScalarFieldContainer[str]
    request_id: str
    def __init__(self, restore_session_id: _Optional[str] = ..., granular_site_restore_artifact_ids: _Optional[_Iterable[str]] = ..., request_id: _Optional[str] = ...) -> None: ...

class RemoveGranularSiteRestoreArtifactsResponse(_message.Message):
    __slots__ = ("removed_ids", "failed")
    REMOVED_IDS_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    removed_ids: _containers.RepeatedScalarFieldContainer[str]
    failed: _containers.RepeatedCompositeFieldContainer[_restore_session_pb2.GranularSiteRestoreArtifact]
    def __init__(self, removed_ids: _Optional[_Iterable[str]] = ..., failed: _Optional[_Iterable[_Union[_restore_session_pb2.GranularSiteRestoreArtifact, _Mapping]]] = ...) -> None: ...

class FindSiteProtectionUnitRequest(_message.Message):
    __slots__ = ("site_web_url",)
    SITE_WEB_URL_FIELD_NUMBER: _ClassVar[int]
    site_web_url: str
    def __init__(self, site_web_url: _Optional[str] = ...) -> None: ...

class FindSiteProtectionUnitResponse(_message.Message):
    __slots__ = ("protection_units",)
    PROTECTION_UNITS_FIELD_NUMBER: _ClassVar[int]
    protection_units: _containers.RepeatedCompositeFieldContainer[_restore_session_pb2.ProtectionUnit]
    def __init__(self, protection_units: _Optional[_Iterable[_Union[_restore_session_pb2.ProtectionUnit, _Mapping]]] = ...) -> None: ...

from google.protobuf import empty_pb2 as _empty_pb2
from graphrestore.v1 import browse_session_pb2 as _browse_session_pb2
from graphrestore.v1 import restore_session_pb2 as _restore_session_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateRestoreSessionRequest(_message.Message):
    __slots__ = ("restore_session", "request_id", "validate_only")
    RESTORE_SESSION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    restore_session: _restore_session_pb2.RestoreSession
    request_id: str
    validate_only: bool
    def __init__(self, restore_session: _Optional[_Union[_restore_session_pb2.RestoreSession, _Mapping]] = ..., request_id: _Optional[str] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class GetRestoreSessionRequest(_message.Message):
    __slots__ = ("restore_session_id",)
    RESTORE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    restore_session_id: str
    def __init__(self, restore_session_id: _Optional[str] = ...) -> None: ...

class ListRestoreSessionsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListRestoreSessionsResponse(_message.Message):
    __slots__ = ("restore_sessions", "next_page_token")
    RESTORE_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    restore_sessions: _containers.RepeatedCompositeFieldContainer[_restore_session_pb2.RestoreSession]
    next_page_token: str
    def __init__(self, restore_sessions: _Optional[_Iterable[_Union[_restore_session_pb2.RestoreSession, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteRestoreSessionRequest(_message.Message):
    __slots__ = ("restore_session_id", "request_id")
    RESTORE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    restore_session_id: str
    request_id: str
    def __init__(self, restore_session_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class AddDriveRestoreArtifactsRequest(_message.Message):
    __slots__ = ("restore_session_id", "drive_restore_artifacts", "request_id")
    RESTORE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    DRIVE_RESTORE_ARTIFACTS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    restore_session_id: str
    drive_restore_artifacts: _containers.RepeatedCompositeFieldContainer[_restore_session_pb2.DriveRestoreArtifact]
    request_id: str
    def __init__(self, restore_session_id: _Optional[str] = ..., drive_restore_artifacts: _Optional[_Iterable[_Union[_restore_session_pb2.DriveRestoreArtifact, _Mapping]]] = ..., request_id: _Optional[str] = ...) -> None: ...

class AddDriveRestoreArtifactsResponse(_message.Message):
    __slots__ = ("added", "failed")
    ADDED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    added: _containers.RepeatedCompositeFieldContainer[_restore_session_pb2.DriveRestoreArtifact]
    failed: _containers.RepeatedCompositeFieldContainer[_restore_session_pb2.DriveRestoreArtifact]
    def __init__(self, added: _Optional[_Iterable[_Union[_restore_session_pb2.DriveRestoreArtifact, _Mapping]]] = ..., failed: _Optional[_Iterable[_Union[_restore_session_pb2.DriveRestoreArtifact, _Mapping]]] = ...) -> None: ...

class RemoveDriveRestoreArtifactsRequest(_message.Message):
    __slots__ = ("restore_session_id", "drive_restore_artifact_ids", "request_id")
    RESTORE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    DRIVE_RESTORE_ARTIFACT_IDS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    restore_session_id: str
    drive_restore_artifact_ids: _containers.RepeatedScalarFieldContainer[str]
    request_id: str
    def __init__(self, restore_session_id: _Optional[str] = ..., drive_restore_artifact_ids: _Optional[_Iterable[str]] = ..., request_id: _Optional[str] = ...) -> None: ...

class RemoveDriveRestoreArtifactsResponse(_message.Message):
    __slots__ = ("removed_ids", "failed")
    REMOVED_IDS_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    removed_ids: _containers.RepeatedScalarFieldContainer[str]
    failed: _containers.RepeatedCompositeFieldContainer[_restore_session_pb2.DriveRestoreArtifact]
    def __init__(self, removed_ids: _Optional[_Iterable[str]] = ..., failed: _Optional[_Iterable[_Union[_restore_session_pb2.DriveRestoreArtifact, _Mapping]]] = ...) -> None: ...

class ActivateRestoreSessionRequest(_message.Message):
    __slots__ = ("restore_session_id", "request_id")
    RESTORE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    restore_session_id: str
    request_id: str
    def __init__(self, restore_session_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ListDriveRestoreArtifactsRequest(_message.Message):
    __slots__ = ("restore_session_id", "page_size", "page_token")
    RESTORE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    restore_session_id: str
    page_size: int
    page_token: str
    def __init__(self, restore_session_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListDriveRestoreArtifactsResponse(_message.Message):
    __slots__ = ("drive_restore_artifacts", "next_page_token")
    DRIVE_RESTORE_ARTIFACTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    drive_restore_artifacts: _containers.RepeatedCompositeFieldContainer[_restore_session_pb2.DriveRestoreArtifact]
    next_page_token: str
    def __init__(self, drive_restore_artifacts: _Optional[_Iterable[_Union[_restore_session_pb2.DriveRestoreArtifact, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class SearchRestorePointsRequest(_message.Message):
    __slots__ = ("protection_unit_ids", "protection_time_period", "restore_point_preference", "tags", "artifact_query")
    PROTECTION_UNIT_IDS_FIELD_NUMBER: _ClassVar[int]
    PROTECTION_TIME_PERIOD_FIELD_NUMBER: _ClassVar[int]
    RESTORE_POINT_PREFERENCE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_QUERY_FIELD_NUMBER: _ClassVar[int]
    protection_unit_ids: _containers.RepeatedScalarFieldContainer[str]
    protection_time_period: _restore_session_pb2.TimePeriod
    restore_point_preference: _restore_session_pb2.RestorePointPreference
    tags: _containers.RepeatedScalarFieldContainer[_restore_session_pb2.RestorePointTag]
    artifact_query: _restore_session_pb2.ArtifactQuery
    def __init__(self, protection_unit_ids: _Optional[_Iterable[str]] = ..., protection_time_period: _Optional[_Union[_restore_session_pb2.TimePeriod, _Mapping]] = ..., restore_point_preference: _Optional[_Union[_restore_session_pb2.RestorePointPreference, str]] = ..., tags: _Optional[_Iterable[_Union[_restore_session_pb2.RestorePointTag, str]]] = ..., artifact_query: _Optional[_Union[_restore_session_pb2.ArtifactQuery, _Mapping]] = ...) -> None: ...

class RestorePointSearchResult(_message.Message):
    __slots__ = ("restore_point", "artifact_hit_count")
    RESTORE_POINT_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_HIT_COUNT_FIELD_NUMBER: _ClassVar[int]
    restore_point: _restore_session_pb2.RestorePoint
    artifact_hit_count: int
    def __init__(self, restore_point: _Optional[_Union[_restore_session_pb2.RestorePoint, _Mapping]] = ..., artifact_hit_count: _Optional[int] = ...) -> None: ...

class SearchRestorePointsResponse(_message.Message):
    __slots__ = ("search_results", "no_result_protection_unit_ids", "search_response_id")
    SEARCH_RESULTS_FIELD_NUMBER: _ClassVar[int]
    NO_RESULT_PROTECTION_UNIT_IDS_FIELD_NUMBER: _ClassVar[int]
    SEARCH_RESPONSE_ID_FIELD_NUMBER: _ClassVar[int]
    search_results: _containers.RepeatedCompositeFieldContainer[RestorePointSearchResult]
    no_result_protection_unit_ids: _containers.RepeatedScalarFieldContainer[str]
    search_response_id: str
    def __init__(self, search_results: _Optional[_Iterable[_Union[RestorePointSearchResult, _Mapping]]] = ..., no_result_protection_unit_ids: _Optional[_Iterable[str]] = ..., search_response_id: _Optional[str] = ...) -> None: ...

class WatchRestoreSessionRequest(_message.Message):
    __slots__ = ("restore_session_id",)
    RESTORE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    restore_session_id: str
    def __init__(self, restore_session_id: _Optional[str] = ...) -> None: ...

class CreateDriveRestoreArtifactsBulkAdditionRequestRequest(_message.Message):
    __slots__ = ("restore_session_id", "bulk_addition_request", "request_id", "validate_only")
    RESTORE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    BULK_ADDITION_REQUEST_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    restore_session_id: str
    bulk_addition_request: _restore_session_pb2.DriveRestoreArtifactsBulkAdditionRequest
    request_id: str
    validate_only: bool
    def __init__(self, restore_session_id: _Optional[str] = ..., bulk_addition_request: _Optional[_Union[_restore_session_pb2.DriveRestoreArtifactsBulkAdditionRequest, _Mapping]] = ..., request_id: _Optional[str] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class GetDriveRestoreArtifactsBulkAdditionRequestRequest(_message.Message):
    __slots__ = ("restore_session_id", "bulk_addition_request_id")
    RESTORE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    BULK_ADDITION_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    restore_session_id: str
    bulk_addition_request_id: str
    def __init__(self, restore_session_id: _Optional[str] = ..., bulk_addition_request_id: _Optional[str] = ...) -> None: ...

class ListDriveRestoreArtifactsBulkAdditionRequestsRequest(_message.Message):
    __slots__ = ("restore_session_id",)
    RESTORE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    restore_session_id: str
    def __init__(self, restore_session_id: _Optional[str] = ...) -> None: ...

class ListDriveRestoreArtifactsBulkAdditionRequestsResponse(_message.Message):
    __slots__ = ("bulk_addition_requests",)
    BULK_ADDITION_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    bulk_addition_requests: _containers.RepeatedCompositeFieldContainer[_restore_session_pb2.DriveRestoreArtifactsBulkAdditionRequest]
    def __init__(self, bulk_addition_requests: _Optional[_Iterable[_Union[_restore_session_pb2.DriveRestoreArtifactsBulkAdditionRequest, _Mapping]]] = ...) -> None: ...

class CreateBrowseSessionRequest(_message.Message):
    __slots__ = ("restore_point_id", "request_id")
    RESTORE_POINT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    restore_point_id: str
    request_id: str
    def __init__(self, restore_point_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetBrowseSessionRequest(_message.Message):
    __slots__ = ("browse_session_id",)
    BROWSE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    browse_session_id: str
    def __init__(self, browse_session_id: _Optional[str] = ...) -> None: ...

class ListBrowseSessionsRequest(_message.Message):
    __slots__ = ("page_token",)
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_token: str
    def __init__(self, page_token: _Optional[str] = ...) -> None: ...

class ListBrowseSessionsResponse(_message.Message):
    __slots__ = ("browse_sessions", "next_page_token")
    BROWSE_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    browse_sessions: _containers.RepeatedCompositeFieldContainer[_browse_session_pb2.BrowseSession]
    next_page_token: str
    def __init__(self, browse_sessions: _Optional[_Iterable[_Union[_browse_session_pb2.BrowseSession, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class BrowseRequest(_message.Message):
    __slots__ = ("browse_session_id", "browse_location_item_key", "browse_resource_type", "name_contains", "order_by", "page_token")
    BROWSE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    BROWSE_LOCATION_ITEM_KEY_FIELD_NUMBER: _ClassVar[int]
    BROWSE_RESOURCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    NAME_CONTAINS_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    browse_session_id: str
    browse_location_item_key: str
    browse_resource_type: _browse_session_pb2.BrowsableResourceType
    name_contains: str
    order_by: _browse_session_pb2.BrowseQueryOrder
    page_token: str
    def __init__(self, browse_session_id: _Optional[str] = ..., browse_location_item_key: _Optional[str] = ..., browse_resource_type: _Optional[_Union[_browse_session_pb2.BrowsableResourceType, str]] = ..., name_contains: _Optional[str] = ..., order_by: _Optional[_Union[_browse_session_pb2.BrowseQueryOrder, str]] = ..., page_token: _Optional[str] = ...) -> None: ...

class BrowseResponse(_message.Message):
    __slots__ = ("items", "next_page_token")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[_browse_session_pb2.BrowseQueryResponseItem]
    next_page_token: str
    def __init__(self, items: _Optional[_Iterable[_Union[_browse_session_pb2.BrowseQueryResponseItem, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListGranularDriveRestoreArtifactsRequest(_message.Message):
    __slots__ = ("restore_session_id", "page_token")
    RESTORE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    restore_session_id: str
    page_token: str
    def __init__(self, restore_session_id: _Optional[str] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListGranularDriveRestoreArtifactsResponse(_message.Message):
    __slots__ = ("granular_drive_restore_artifacts", "next_page_token")
    GRANULAR_DRIVE_RESTORE_ARTIFACTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    granular_drive_restore_artifacts: _containers.RepeatedCompositeFieldContainer[_restore_session_pb2.GranularDriveRestoreArtifact]
    next_page_token: str
    def __init__(self, granular_drive_restore_artifacts: _Optional[_Iterable[_Union[_restore_session_pb2.GranularDriveRestoreArtifact, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class AddGranularDriveRestoreArtifactsRequest(_message.Message):
    __slots__ = ("restore_session_id", "granular_drive_restore_artifacts", "request_id")
    RESTORE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    GRANULAR_DRIVE_RESTORE_ARTIFACTS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    restore_session_id: str
    granular_drive_restore_artifacts: _containers.RepeatedCompositeFieldContainer[_restore_session_pb2.GranularDriveRestoreArtifact]
    request_id: str
    def __init__(self, restore_session_id: _Optional[str] = ..., granular_drive_restore_artifacts: _Optional[_Iterable[_Union[_restore_session_pb2.GranularDriveRestoreArtifact, _Mapping]]] = ..., request_id: _Optional[str] = ...) -> None: ...

class AddGranularDriveRestoreArtifactsResponse(_message.Message):
    __slots__ = ("added", "failed")
    ADDED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    added: _containers.RepeatedCompositeFieldContainer[_restore_session_pb2.GranularDriveRestoreArtifact]
    failed: _containers.RepeatedCompositeFieldContainer[_restore_session_pb2.GranularDriveRestoreArtifact]
    def __init__(self, added: _Optional[_Iterable[_Union[_restore_session_pb2.GranularDriveRestoreArtifact, _Mapping]]] = ..., failed: _Optional[_Iterable[_Union[_restore_session_pb2.GranularDriveRestoreArtifact, _Mapping]]] = ...) -> None: ...

class RemoveGranularDriveRestoreArtifactsRequest(_message.Message):
    __slots__ = ("restore_session_id", "granular_drive_restore_artifact_ids", "request_id")
    RESTORE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    GRANULAR_DRIVE_RESTORE_ARTIFACT_IDS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    restore_session_id: str
    granular_drive_restore_artifact_ids: _containers.RepeatedScalarFieldContainer[str]
    request_id: str
    def __init__(self, restore_session_id: _Optional[str] = ..., granular_drive_restore_artifact_ids: _Optional[_Iterable[str]] = ..., request_id: _Optional[str] = ...) -> None: ...

class RemoveGranularDriveRestoreArtifactsResponse(_message.Message):
    __slots__ = ("removed_ids", "failed")
    REMOVED_IDS_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    removed_ids: _containers.RepeatedScalarFieldContainer[str]
    failed: _containers.RepeatedCompositeFieldContainer[_restore_session_pb2.GranularDriveRestoreArtifact]
    def __init__(self, removed_ids: _Optional[_Iterable[str]] = ..., failed: _Optional[_Iterable[_Union[_restore_session_pb2.GranularDriveRestoreArtifact, _Mapping]]] = ...) -> None: ...

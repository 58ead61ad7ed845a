import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DestinationType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DESTINATION_TYPE_UNSPECIFIED: _ClassVar[DestinationType]
    DESTINATION_TYPE_NEW: _ClassVar[DestinationType]
    DESTINATION_TYPE_IN_PLACE: _ClassVar[DestinationType]
    DESTINATION_TYPE_UNKNOWN_FUTURE_VALUE: _ClassVar[DestinationType]

class RestoreSessionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESTORE_SESSION_STATUS_UNSPECIFIED: _ClassVar[RestoreSessionStatus]
    RESTORE_SESSION_STATUS_DRAFT: _ClassVar[RestoreSessionStatus]
    RESTORE_SESSION_STATUS_ACTIVATING: _ClassVar[RestoreSessionStatus]
    RESTORE_SESSION_STATUS_ACTIVE: _ClassVar[RestoreSessionStatus]
    RESTORE_SESSION_STATUS_COMPLETED_WITH_ERROR: _ClassVar[RestoreSessionStatus]
    RESTORE_SESSION_STATUS_COMPLETED: _ClassVar[RestoreSessionStatus]
    RESTORE_SESSION_STATUS_UNKNOWN_FUTURE_VALUE: _ClassVar[RestoreSessionStatus]
    RESTORE_SESSION_STATUS_FAILED: _ClassVar[RestoreSessionStatus]

class ArtifactRestoreStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ARTIFACT_RESTORE_STATUS_UNSPECIFIED: _ClassVar[ArtifactRestoreStatus]
    ARTIFACT_RESTORE_STATUS_ADDED: _ClassVar[ArtifactRestoreStatus]
    ARTIFACT_RESTORE_STATUS_SCHEDULING: _ClassVar[ArtifactRestoreStatus]
    ARTIFACT_RESTORE_STATUS_SCHEDULED: _ClassVar[ArtifactRestoreStatus]
    ARTIFACT_RESTORE_STATUS_IN_PROGRESS: _ClassVar[ArtifactRestoreStatus]
    ARTIFACT_RESTORE_STATUS_SUCCEEDED: _ClassVar[ArtifactRestoreStatus]
    ARTIFACT_RESTORE_STATUS_FAILED: _ClassVar[ArtifactRestoreStatus]
    ARTIFACT_RESTORE_STATUS_UNKNOWN_FUTURE_VALUE: _ClassVar[ArtifactRestoreStatus]

class RestoreJobType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESTORE_JOB_TYPE_UNSPECIFIED: _ClassVar[RestoreJobType]
    RESTORE_JOB_TYPE_STANDARD: _ClassVar[RestoreJobType]
    RESTORE_JOB_TYPE_BULK: _ClassVar[RestoreJobType]
    RESTORE_JOB_TYPE_UNKNOWN_FUTURE_VALUE: _ClassVar[RestoreJobType]
    RESTORE_JOB_TYPE_GRANULAR: _ClassVar[RestoreJobType]

class RestorePointTag(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESTORE_POINT_TAG_UNSPECIFIED: _ClassVar[RestorePointTag]
    RESTORE_POINT_TAG_NONE: _ClassVar[RestorePointTag]
    RESTORE_POINT_TAG_FAST_RESTORE: _ClassVar[RestorePointTag]
    RESTORE_POINT_TAG_UNKNOWN_FUTURE_VALUE: _ClassVar[RestorePointTag]

class ProtectionSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROTECTION_SOURCE_UNSPECIFIED: _ClassVar[ProtectionSource]
    PROTECTION_SOURCE_NONE: _ClassVar[ProtectionSource]
    PROTECTION_SOURCE_MANUAL: _ClassVar[ProtectionSource]
    PROTECTION_SOURCE_DYNAMIC_RULE: _ClassVar[ProtectionSource]
    PROTECTION_SOURCE_UNKNOWN_FUTURE_VALUE: _ClassVar[ProtectionSource]

class RestorePointPreference(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESTORE_POINT_PREFERENCE_UNSPECIFIED: _ClassVar[RestorePointPreference]
    RESTORE_POINT_PREFERENCE_LATEST: _ClassVar[RestorePointPreference]
    RESTORE_POINT_PREFERENCE_OLDEST: _ClassVar[RestorePointPreference]
    RESTORE_POINT_PREFERENCE_UNKNOWN_FUTURE_VALUE: _ClassVar[RestorePointPreference]

class RestoreArtifactsBulkRequestStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESTORE_ARTIFACTS_BULK_REQUEST_STATUS_UNSPECIFIED: _ClassVar[RestoreArtifactsBulkRequestStatus]
    RESTORE_ARTIFACTS_BULK_REQUEST_STATUS_UNKNOWN: _ClassVar[RestoreArtifactsBulkRequestStatus]
    RESTORE_ARTIFACTS_BULK_REQUEST_STATUS_ACTIVE: _ClassVar[RestoreArtifactsBulkRequestStatus]
    RESTORE_ARTIFACTS_BULK_REQUEST_STATUS_COMPLETED: _ClassVar[RestoreArtifactsBulkRequestStatus]
    RESTORE_ARTIFACTS_BULK_REQUEST_STATUS_COMPLETED_WITH_ERRORS: _ClassVar[RestoreArtifactsBulkRequestStatus]
    RESTORE_ARTIFACTS_BULK_REQUEST_STATUS_UNKNOWN_FUTURE_VALUE: _ClassVar[RestoreArtifactsBulkRequestStatus]

class RestorableArtifact(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESTORABLE_ARTIFACT_UNSPECIFIED: _ClassVar[RestorableArtifact]
    RESTORABLE_ARTIFACT_MESSAGE: _ClassVar[RestorableArtifact]
    RESTORABLE_ARTIFACT_UNKNOWN_FUTURE_VALUE: _ClassVar[RestorableArtifact]
DESTINATION_TYPE_UNSPECIFIED: DestinationType
DESTINATION_TYPE_NEW: DestinationType
DESTINATION_TYPE_IN_PLACE: DestinationType
DESTINATION_TYPE_UNKNOWN_FUTURE_VALUE: DestinationType
RESTORE_SESSION_STATUS_UNSPECIFIED: RestoreSessionStatus
RESTORE_SESSION_STATUS_DRAFT: RestoreSessionStatus
RESTORE_SESSION_STATUS_ACTIVATING: RestoreSessionStatus
RESTORE_SESSION_STATUS_ACTIVE: RestoreSessionStatus
RESTORE_SESSION_STATUS_COMPLETED_WITH_ERROR: RestoreSessionStatus
RESTORE_SESSION_STATUS_COMPLETED: RestoreSessionStatus
RESTORE_SESSION_STATUS_UNKNOWN_FUTURE_VALUE: RestoreSessionStatus
RESTORE_SESSION_STATUS_FAILED: RestoreSessionStatus
ARTIFACT_RESTORE_STATUS_UNSPECIFIED: ArtifactRestoreStatus
ARTIFACT_RESTORE_STATUS_ADDED: ArtifactRestoreStatus
ARTIFACT_RESTORE_STATUS_SCHEDULING: ArtifactRestoreStatus
ARTIFACT_RESTORE_STATUS_SCHEDULED: ArtifactRestoreStatus
ARTIFACT_RESTORE_STATUS_IN_PROGRESS: ArtifactRestoreStatus
ARTIFACT_RESTORE_STATUS_SUCCEEDED: ArtifactRestoreStatus
ARTIFACT_RESTORE_STATUS_FAILED: ArtifactRestoreStatus
ARTIFACT_RESTORE_STATUS_UNKNOWN_FUTURE_VALUE: ArtifactRestoreStatus
RESTORE_JOB_TYPE_UNSPECIFIED: RestoreJobType
RESTORE_JOB_TYPE_STANDARD: RestoreJobType
RESTORE_JOB_TYPE_BULK: RestoreJobType
RESTORE_JOB_TYPE_UNKNOWN_FUTURE_VALUE: RestoreJobType
RESTORE_JOB_TYPE_GRANULAR: RestoreJobType
RESTORE_POINT_TAG_UNSPECIFIED: RestorePointTag
RESTORE_POINT_TAG_NONE: RestorePointTag
RESTORE_POINT_TAG_FAST_RESTORE: RestorePointTag
RESTORE_POINT_TAG_UNKNOWN_FUTURE_VALUE: RestorePointTag
PROTECTION_SOURCE_UNSPECIFIED: ProtectionSource
PROTECTION_SOURCE_NONE: ProtectionSource
PROTECTION_SOURCE_MANUAL: ProtectionSource
PROTECTION_SOURCE_DYNAMIC_RULE: ProtectionSource
PROTECTION_SOURCE_UNKNOWN_FUTURE_VALUE: ProtectionSource
RESTORE_POINT_PREFERENCE_UNSPECIFIED: RestorePointPreference
RESTORE_POINT_PREFERENCE_LATEST: RestorePointPreference
RESTORE_POINT_PREFERENCE_OLDEST: RestorePointPreference
RESTORE_POINT_PREFERENCE_UNKNOWN_FUTURE_VALUE: RestorePointPreference
RESTORE_ARTIFACTS_BULK_REQUEST_STATUS_UNSPECIFIED: RestoreArtifactsBulkRequestStatus
RESTORE_ARTIFACTS_BULK_REQUEST_STATUS_UNKNOWN: RestoreArtifactsBulkRequestStatus
RESTORE_ARTIFACTS_BULK_REQUEST_STATUS_ACTIVE: RestoreArtifactsBulkRequestStatus
RESTORE_ARTIFACTS_BULK_REQUEST_STATUS_COMPLETED: RestoreArtifactsBulkRequestStatus
RESTORE_ARTIFACTS_BULK_REQUEST_STATUS_COMPLETED_WITH_ERRORS: RestoreArtifactsBulkRequestStatus
RESTORE_ARTIFACTS_BULK_REQUEST_STATUS_UNKNOWN_FUTURE_VALUE: RestoreArtifactsBulkRequestStatus
RESTORABLE_ARTIFACT_UNSPECIFIED: RestorableArtifact
RESTORABLE_ARTIFACT_MESSAGE: RestorableArtifact
RESTORABLE_ARTIFACT_UNKNOWN_FUTURE_VALUE: RestorableArtifact

class Identity(_message.Message):
    __slots__ = ("id", "display_name")
    ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    id: str
    display_name: str
    def __init__(self, id: _Optional[str] = ..., display_name: _Optional[str] = ...) -> None: ...

class IdentitySet(_message.Message):
    __slots__ = ("application", "user", "device")
    APPLICATION_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    application: Identity
    user: Identity
    device: Identity
    def __init__(self, application: _Optional[_Union[Identity, _Mapping]] = ..., user: _Optional[_Union[Identity, _Mapping]] = ..., device: _Optional[_Union[Identity, _Mapping]] = ...) -> None: ...

class PublicErrorDetail(_message.Message):
    __slots__ = ("code", "message", "target")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    target: str
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ..., target: _Optional[str] = ...) -> None: ...

class PublicInnerError(_message.Message):
    __slots__ = ("code", "message", "target")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    target: str
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ..., target: _Optional[str] = ...) -> None: ...

class PublicError(_message.Message):
    __slots__ = ("code", "message", "target", "details", "inner_error")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    INNER_ERROR_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    target: str
    details: _containers.RepeatedCompositeFieldContainer[PublicErrorDetail]
    inner_error: PublicInnerError
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ..., target: _Optional[str] = ..., details: _Optional[_Iterable[_Union[PublicErrorDetail, _Mapping]]] = ..., inner_error: _Optional[_Union[PublicInnerError, _Mapping]] = ...) -> None: ...

class RestoreSessionArtifactCount(_message.Message):
    __slots__ = ("total", "completed", "in_progress", "failed")
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    IN_PROGRESS_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    total: int
    completed: int
    in_progress: int
    failed: int
    def __init__(self, total: _Optional[int] = ..., completed: _Optional[int] = ..., in_progress: _Optional[int] = ..., failed: _Optional[int] = ...) -> None: ...

class ProtectionUnit(_message.Message):
    __slots__ = ("id", "policy_id", "status", "directory_object_id", "email", "site_id", "site_name", "site_web_url", "display_name", "protection_sources", "offboard_requested_date_time", "created_by", "created_date_time", "last_modified_by", "last_modified_date_time", "error")
    ID_FIELD_NUMBER: _ClassVar[int]
    POLICY_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DIRECTORY_OBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_NAME_FIELD_NUMBER: _ClassVar[int]
    SITE_WEB_URL_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    PROTECTION_SOURCES_FIELD_NUMBER: _ClassVar[int]
    OFFBOARD_REQUESTED_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_MODIFIED_BY_FIELD_NUMBER: _ClassVar[int]
    LAST_MODIFIED_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    id: str
    policy_id: str
    status: str
    directory_object_id: str
    email: str
    site_id: str
    site_name: str
    site_web_url: str
    display_name: str
    protection_sources: _containers.RepeatedScalarFieldContainer[ProtectionSource]
    offboard_requested_date_time: _timestamp_pb2.Timestamp
    created_by: IdentitySet
    created_date_time: _timestamp_pb2.Timestamp
    last_modified_by: IdentitySet
    last_modified_date_time: _timestamp_pb2.Timestamp
    error: PublicError
    def __init__(self, id: _Optional[str] = ..., policy_id: _Optional[str] = ..., status: _Optional[str] = ..., directory_object_id: _Optional[str] = ..., email: _Optional[str] = ..., site_id: _Optional[str] = ..., site_name: _Optional[str] = ..., site_web_url: _Optional[str] = ..., display_name: _Optional[str] = ..., protection_sources: _Optional[_Iterable[_Union[ProtectionSource, str]]] = ..., offboard_requested_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_by: _Optional[_Union[IdentitySet, _Mapping]] = ..., created_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_modified_by: _Optional[_Union[IdentitySet, _Mapping]] = ..., last_modified_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., error: _Optional[_Union[PublicError, _Mapping]] = ...) -> None: ...

class RestorePoint(_message.Message):
    __slots__ = ("id", "protection_date_time", "expiration_date_time", "tags", "protection_unit")
    ID_FIELD_NUMBER: _ClassVar[int]
    PROTECTION_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPIRATION_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    PROTECTION_UNIT_FIELD_NUMBER: _ClassVar[int]
    id: str
    protection_date_time: _timestamp_pb2.Timestamp
    expiration_date_time: _timestamp_pb2.Timestamp
    tags: _containers.RepeatedScalarFieldContainer[RestorePointTag]
    protection_unit: ProtectionUnit
    def __init__(self, id: _Optional[str] = ..., protection_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expiration_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., tags: _Optional[_Iterable[_Union[RestorePointTag, str]]] = ..., protection_unit: _Optional[_Union[ProtectionUnit, _Mapping]] = ...) -> None: ...

class DriveRestoreArtifact(_message.Message):
    __slots__ = ("id", "restore_point", "destination_type", "status", "start_date_time", "completion_date_time", "error", "restored_site_id", "restored_site_name", "restored_site_web_url", "created_date_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    RESTORE_POINT_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    START_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    RESTORED_SITE_ID_FIELD_NUMBER: _ClassVar[int]
    RESTORED_SITE_NAME_FIELD_NUMBER: _ClassVar[int]
    RESTORED_SITE_WEB_URL_FIELD_NUMBER: _ClassVar[int]
    CREATED_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    restore_point: RestorePoint
    destination_type: DestinationType
    status: ArtifactRestoreStatus
    start_date_time: _timestamp_pb2.Timestamp
    completion_date_time: _timestamp_pb2.Timestamp
    error: PublicError
    restored_site_id: str
    restored_site_name: str
    restored_site_web_url: str
    created_date_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., restore_point: _Optional[_Union[RestorePoint, _Mapping]] = ..., destination_type: _Optional[_Union[DestinationType, str]] = ..., status: _Optional[_Union[ArtifactRestoreStatus, str]] = ..., start_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., completion_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., error: _Optional[_Union[PublicError, _Mapping]] = ..., restored_site_id: _Optional[str] = ..., restored_site_name: _Optional[str] = ..., restored_site_web_url: _Optional[str] = ..., created_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SiteRestoreArtifact(_message.Message):
    __slots__ = ("id", "restore_point", "destination_type", "status", "start_date_time", "completion_date_time", "error", "restored_site_id", "restored_site_name", "restored_site_web_url", "created_date_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    RESTORE_POINT_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    START_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    RESTORED_SITE_ID_FIELD_NUMBER: _ClassVar[int]
    RESTORED_SITE_NAME_FIELD_NUMBER: _ClassVar[int]
    RESTORED_SITE_WEB_URL_FIELD_NUMBER: _ClassVar[int]
    CREATED_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    restore_point: RestorePoint
    destination_type: DestinationType
    status: ArtifactRestoreStatus
    start_date_time: _timestamp_pb2.Timestamp
    completion_date_time: _timestamp_pb2.Timestamp
    error: PublicError
    restored_site_id: str
    restored_site_name: str
    restored_site_web_url: str
    created_date_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., restore_point: _Optional[_Union[RestorePoint, _Mapping]] = ..., destination_type: _Optional[_Union[DestinationType, str]] = ..., status: _Optional[_Union[ArtifactRestoreStatus, str]] = ..., start_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., completion_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., error: _Optional[_Union[PublicError, _Mapping]] = ..., restored_site_id: _Optional[str] = ..., restored_site_name: _Optional[str] = ..., restored_site_web_url: _Optional[str] = ..., created_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class MailboxRestoreArtifact(_message.Message):
    __slots__ = ("id", "restore_point", "destination_type", "status", "start_date_time", "completion_date_time", "error", "restored_folder_id", "restored_folder_name", "restored_item_count", "created_date_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    RESTORE_POINT_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    START_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    RESTORED_FOLDER_ID_FIELD_NUMBER: _ClassVar[int]
    RESTORED_FOLDER_NAME_FIELD_NUMBER: _ClassVar[int]
    RESTORED_ITEM_COUNT_FIELD_NUMBER: _ClassVar[int]
    CREATED_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    restore_point: RestorePoint
    destination_type: DestinationType
    status: ArtifactRestoreStatus
    start_date_time: _timestamp_pb2.Timestamp
    completion_date_time: _timestamp_pb2.Timestamp
    error: PublicError
    restored_folder_id: str
    restored_folder_name: str
    restored_item_count: int
    created_date_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., restore_point: _Optional[_Union[RestorePoint, _Mapping]] = ..., destination_type: _Optional[_Union[DestinationType, str]] = ..., status: _Optional[_Union[ArtifactRestoreStatus, str]] = ..., start_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., completion_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., error: _Optional[_Union[PublicError, _Mapping]] = ..., restored_folder_id: _Optional[str] = ..., restored_folder_name: _Optional[str] = ..., restored_item_count: _Optional[int] = ..., created_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GranularMailboxRestoreArtifact(_message.Message):
    __slots__ = ("id", "restore_point", "destination_type", "status", "start_date_time", "completion_date_time", "error", "restored_folder_id", "restored_folder_name", "restored_item_count", "search_response_id", "artifact_count", "created_date_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    RESTORE_POINT_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    START_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    RESTORED_FOLDER_ID_FIELD_NUMBER: _ClassVar[int]
    RESTORED_FOLDER_NAME_FIELD_NUMBER: _ClassVar[int]
    RESTORED_ITEM_COUNT_FIELD_NUMBER: _ClassVar[int]
    SEARCH_RESPONSE_ID_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_COUNT_FIELD_NUMBER: _ClassVar[int]
    CREATED_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    restore_point: RestorePoint
    destination_type: DestinationType
    status: ArtifactRestoreStatus
    start_date_time: _timestamp_pb2.Timestamp
    completion_date_time: _timestamp_pb2.Timestamp
    error: PublicError
    restored_folder_id: str
    restored_folder_name: str
    restored_item_count: int
    search_response_id: str
    artifact_count: int
    created_date_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., restore_point: _Optional[_Union[RestorePoint, _Mapping]] = ..., destination_type: _Optional[_Union[DestinationType, str]] = ..., status: _Optional[_Union[ArtifactRestoreStatus, str]] = ..., start_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., completion_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., error: _Optional[_Union[PublicError, _Mapping]] = ..., restored_folder_id: _Optional[str] = ..., restored_folder_name: _Optional[str] = ..., restored_item_count: _Optional[int] = ..., search_response_id: _Optional[str] = ..., artifact_count: _Optional[int] = ..., created_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GranularDriveRestoreArtifact(_message.Message):
    __slots__ = ("id", "browse_session_id", "status", "web_url", "restored_item_key", "restored_item_path", "restored_item_web_url", "restore_point_date_time", "start_date_time", "completion_date_time", "directory_object_id", "error")
    ID_FIELD_NUMBER: _ClassVar[int]
    BROWSE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    WEB_URL_FIELD_NUMBER: _ClassVar[int]
    RESTORED_ITEM_KEY_FIELD_NUMBER: _ClassVar[int]
    RESTORED_ITEM_PATH_FIELD_NUMBER: _ClassVar[int]
    RESTORED_ITEM_WEB_URL_FIELD_NUMBER: _ClassVar[int]
    RESTORE_POINT_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    START_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DIRECTORY_OBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    id: str
    browse_session_id: str
    status: ArtifactRestoreStatus
    web_url: str
    restored_item_key: str
    restored_item_path: str
    restored_item_web_url: str
    restore_point_date_time: _timestamp_pb2.Timestamp
    start_date_time: _timestamp_pb2.Timestamp
    completion_date_time: _timestamp_pb2.Timestamp
    directory_object_id: str
    error: PublicError
    def __init__(self, id: _Optional[str] = ..., browse_session_id: _Optional[str] = ..., status: _Optional[_Union[ArtifactRestoreStatus, str]] = ..., web_url: _Optional[str] = ..., restored_item_key: _Optional[str] = ..., restored_item_path: _Optional[str] = ..., restored_item_web_url: _Optional[str] = ..., restore_point_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., start_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., completion_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., directory_object_id: _Optional[str] = ..., error: _Optional[_Union[PublicError, _Mapping]] = ...) -> None: ...

class GranularSiteRestoreArtifact(_message.Message):
    __slots__ = ("id", "browse_session_id", "status", "web_url", "restored_item_key", "restored_item_path", "restored_item_web_url", "restore_point_date_time", "start_date_time", "completion_date_time", "site_id", "error")
    ID_FIELD_NUMBER: _ClassVar[int]
    BROWSE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    WEB_URL_FIELD_NUMBER: _ClassVar[int]
    RESTORED_ITEM_KEY_FIELD_NUMBER: _ClassVar[int]
    RESTORED_ITEM_PATH_FIELD_NUMBER: _ClassVar[int]
    RESTORED_ITEM_WEB_URL_FIELD_NUMBER: _ClassVar[int]
    RESTORE_POINT_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    START_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    id: str
    browse_session_id: str
    status: ArtifactRestoreStatus
    web_url: str
    restored_item_key: str
    restored_item_path: str
    restored_item_web_url: str
    restore_point_date_time: _timestamp_pb2.Timestamp
    start_date_time: _timestamp_pb2.Timestamp
    completion_date_time: _timestamp_pb2.Timestamp
    site_id: str
    error: PublicError
    def __init__(self, id: _Optional[str] = ..., browse_session_id: _Optional[str] = ..., status: _Optional[_Union[ArtifactRestoreStatus, str]] = ..., web_url: _Optional[str] = ..., restored_item_key: _Optional[str] = ..., restored_item_path: _Optional[str] = ..., restored_item_web_url: _Optional[str] = ..., restore_point_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., start_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., completion_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., site_id: _Optional[str] = ..., error: _Optional[_Union[PublicError, _Mapping]] = ...) -> None: ...

class RestoreSession(_message.Message):
    __slots__ = ("id", "status", "restore_job_type", "restore_session_artifact_count", "created_by", "created_date_time", "last_modified_by", "last_modified_date_time", "completed_date_time", "error", "drive_restore_artifacts", "site_restore_artifacts", "mailbox_restore_artifacts", "granular_mailbox_restore_artifacts", "granular_drive_restore_artifacts", "granular_site_restore_artifacts")
    ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RESTORE_JOB_TYPE_FIELD_NUMBER: _ClassVar[int]
    RESTORE_SESSION_ARTIFACT_COUNT_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_MODIFIED_BY_FIELD_NUMBER: _ClassVar[int]
    LAST_MODIFIED_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    DRIVE_RESTORE_ARTIFACTS_FIELD_NUMBER: _ClassVar[int]
    SITE_RESTORE_ARTIFACTS_FIELD_NUMBER: _ClassVar[int]
    MAILBOX_RESTORE_ARTIFACTS_FIELD_NUMBER: _ClassVar[int]
    GRANULAR_MAILBOX_RESTORE_ARTIFACTS_FIELD_NUMBER: _ClassVar[int]
    GRANULAR_DRIVE_RESTORE_ARTIFACTS_FIELD_NUMBER: _ClassVar[int]
    GRANULAR_SITE_RESTORE_ARTIFACTS_FIELD_NUMBER: _ClassVar[int]
    id: str
    status: RestoreSessionStatus
    restore_job_type: RestoreJobType
    restore_session_artifact_count: RestoreSessionArtifactCount
    created_by: IdentitySet
    created_date_time: _timestamp_pb2.Timestamp
    last_modified_by: IdentitySet
    last_modified_date_time: _timestamp_pb2.Timestamp
    completed_date_time: _timestamp_pb2.Timestamp
    error: PublicError
    drive_restore_artifacts: _containers.RepeatedCompositeFieldContainer[DriveRestoreArtifact]
    site_restore_artifacts: _containers.RepeatedCompositeFieldContainer[SiteRestoreArtifact]
    mailbox_restore_artifacts: _containers.RepeatedCompositeFieldContainer[MailboxRestoreArtifact]
    granular_mailbox_restore_artifacts: _containers.RepeatedCompositeFieldContainer[GranularMailboxRestoreArtifact]
    granular_drive_restore_artifacts: _containers.RepeatedCompositeFieldContainer[GranularDriveRestoreArtifact]
    granular_site_restore_artifacts: _containers.RepeatedCompositeFieldContainer[GranularSiteRestoreArtifact]
    def __init__(self, id: _Optional[str] = ..., status: _Optional[_Union[RestoreSessionStatus, str]] = ..., restore_job_type: _Optional[_Union[RestoreJobType, str]] = ..., restore_session_artifact_count: _Optional[_Union[RestoreSessionArtifactCount, _Mapping]] = ..., created_by: _Optional[_Union[IdentitySet, _Mapping]] = ..., created_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_modified_by: _Optional[_Union[IdentitySet, _Mapping]] = ..., last_modified_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., completed_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., error: _Optional[_Union[PublicError, _Mapping]] = ..., drive_restore_artifacts: _Optional[_Iterable[_Union[DriveRestoreArtifact, _Mapping]]] = ..., site_restore_artifacts: _Optional[_Iterable[_Union[SiteRestoreArtifact, _Mapping]]] = ..., mailbox_restore_artifacts: _Optional[_Iterable[_Union[MailboxRestoreArtifact, _Mapping]]] = ..., granular_mailbox_restore_artifacts: _Optional[_Iterable[_Union[GranularMailboxRestoreArtifact, _Mapping]]] = ..., granular_drive_restore_artifacts: _Optional[_Iterable[_Union[GranularDriveRestoreArtifact, _Mapping]]] = ..., granular_site_restore_artifacts: _Optional[_Iterable[_Union[GranularSiteRestoreArtifact, _Mapping]]] = ...) -> None: ...

class TimePeriod(_message.Message):
    __slots__ = ("start_date_time", "end_date_time")
    START_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    END_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    start_date_time: _timestamp_pb2.Timestamp
    end_date_time: _timestamp_pb2.Timestamp
    def __init__(self, start_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DriveRestoreArtifactsBulkAdditionRequest(_message.Message):
    __slots__ = ("id", "display_name", "status", "destination_type", "protection_time_period", "restore_point_preference", "tags", "protection_unit_ids", "drives", "directory_object_ids", "created_date_time", "created_by", "last_modified_date_time", "last_modified_by", "error", "restore_session_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_TYPE_FIELD_NUMBER: _ClassVar[int]
    PROTECTION_TIME_PERIOD_FIELD_NUMBER: _ClassVar[int]
    RESTORE_POINT_PREFERENCE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    PROTECTION_UNIT_IDS_FIELD_NUMBER: _ClassVar[int]
    DRIVES_FIELD_NUMBER: _ClassVar[int]
    DIRECTORY_OBJECT_IDS_FIELD_NUMBER: _ClassVar[int]
    CREATED_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    LAST_MODIFIED_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_MODIFIED_BY_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    RESTORE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    display_name: str
    status: RestoreArtifactsBulkRequestStatus
    destination_type: DestinationType
    protection_time_period: TimePeriod
    restore_point_preference: RestorePointPreference
    tags: _containers.RepeatedScalarFieldContainer[RestorePointTag]
    protection_unit_ids: _containers.RepeatedScalarFieldContainer[str]
    drives: _containers.RepeatedScalarFieldContainer[str]
    directory_object_ids: _containers.RepeatedScalarFieldContainer[str]
    created_date_time: _timestamp_pb2.Timestamp
    created_by: IdentitySet
    last_modified_date_time: _timestamp_pb2.Timestamp
    last_modified_by: IdentitySet
    error: PublicError
    restore_session_id: str
    def __init__(self, id: _Optional[str] = ..., display_name: _Optional[str] = ..., status: _Optional[_Union[RestoreArtifactsBulkRequestStatus, str]] = ..., destination_type: _Optional[_Union[DestinationType, str]] = ..., protection_time_period: _Optional[_Union[TimePeriod, _Mapping]] = ..., restore_point_preference: _Optional[_Union[RestorePointPreference, str]] = ..., tags: _Optional[_Iterable[_Union[RestorePointTag, str]]] = ..., protection_unit_ids: _Optional[_Iterable[str]] = ..., drives: _Optional[_Iterable[str]] = ..., directory_object_ids: _Optional[_Iterable[str]] = ..., created_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_by: _Optional[_Union[IdentitySet, _Mapping]] = ..., last_modified_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_modified_by: _Optional[_Union[IdentitySet, _Mapping]] = ..., error: _Optional[_Union[PublicError, _Mapping]] = ..., restore_session_id: _Optional[str] = ...) -> None: ...

class SiteRestoreArtifactsBulkAdditionRequest(_message.Message):
    __slots__ = ("id", "display_name", "status", "destination_type", "protection_time_period", "restore_point_preference", "tags", "protection_unit_ids", "site_web_urls", "site_ids", "created_date_time", "created_by", "last_modified_date_time", "last_modified_by", "error", "restore_session_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_TYPE_FIELD_NUMBER: _ClassVar[int]
    PROTECTION_TIME_PERIOD_FIELD_NUMBER: _ClassVar[int]
    RESTORE_POINT_PREFERENCE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    PROTECTION_UNIT_IDS_FIELD_NUMBER: _ClassVar[int]
    SITE_WEB_URLS_FIELD_NUMBER: _ClassVar[int]
    SITE_IDS_FIELD_NUMBER: _ClassVar[int]
    CREATED_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    LAST_MODIFIED_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_MODIFIED_BY_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    RESTORE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    display_name: str
    status: RestoreArtifactsBulkRequestStatus
    destination_type: DestinationType
    protection_time_period: TimePeriod
    restore_point_preference: RestorePointPreference
    tags: _containers.RepeatedScalarFieldContainer[RestorePointTag]
    protection_unit_ids: _containers.RepeatedScalarFieldContainer[str]
    site_web_urls: _containers.RepeatedScalarFieldContainer[str]
    site_ids: _containers.RepeatedScalarFieldContainer[str]
    created_date_time: _timestamp_pb2.Timestamp
    created_by: IdentitySet
    last_modified_date_time: _timestamp_pb2.Timestamp
    last_modified_by: IdentitySet
    error: PublicError
    restore_session_id: str
    def __init__(self, id: _Optional[str] = ..., display_name: _Optional[str] = ..., status: _Optional[_Union[RestoreArtifactsBulkRequestStatus, str]] = ..., destination_type: _Optional[_Union[DestinationType, str]] = ..., protection_time_period: _Optional[_Union[TimePeriod, _Mapping]] = ..., restore_point_preference: _Optional[_Union[RestorePointPreference, str]] = ..., tags: _Optional[_Iterable[_Union[RestorePointTag, str]]] = ..., protection_unit_ids: _Optional[_Iterable[str]] = ..., site_web_urls: _Optional[_Iterable[str]] = ..., site_ids: _Optional[_Iterable[str]] = ..., created_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_by: _Optional[_Union[IdentitySet, _Mapping]] = ..., last_modified_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_modified_by: _Optional[_Union[IdentitySet, _Mapping]] = ..., error: _Optional[_Union[PublicError, _Mapping]] = ..., restore_session_id: _Optional[str] = ...) -> None: ...

class MailboxRestoreArtifactsBulkAdditionRequest(_message.Message):
    __slots__ = ("id", "display_name", "status", "destination_type", "protection_time_period", "restore_point_preference", "tags", "protection_unit_ids", "mailboxes", "directory_object_ids", "created_date_time", "created_by", "last_modified_date_time", "last_modified_by", "error", "restore_session_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_TYPE_FIELD_NUMBER: _ClassVar[int]
    PROTECTION_TIME_PERIOD_FIELD_NUMBER: _ClassVar[int]
    RESTORE_POINT_PREFERENCE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    PROTECTION_UNIT_IDS_FIELD_NUMBER: _ClassVar[int]
    MAILBOXES_FIELD_NUMBER: _ClassVar[int]
    DIRECTORY_OBJECT_IDS_FIELD_NUMBER: _ClassVar[int]
    CREATED_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    LAST_MODIFIED_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_MODIFIED_BY_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    RESTORE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    display_name: str
    status: RestoreArtifactsBulkRequestStatus
    destination_type: DestinationType
    protection_time_period: TimePeriod
    restore_point_preference: RestorePointPreference
    tags: _containers.RepeatedScalarFieldContainer[RestorePointTag]
    protection_unit_ids: _containers.RepeatedScalarFieldContainer[str]
    mailboxes: _containers.RepeatedScalarFieldContainer[str]
    directory_object_ids: _containers.RepeatedScalarFieldContainer[str]
    created_date_time: _timestamp_pb2.Timestamp
    created_by: IdentitySet
    last_modified_date_time: _timestamp_pb2.Timestamp
    last_modified_by: IdentitySet
    error: PublicError
    restore_session_id: str
    def __init__(self, id: _Optional[str] = ..., display_name: _Optional[str] = ..., status: _Optional[_Union[RestoreArtifactsBulkRequestStatus, str]] = ..., destination_type: _Optional[_Union[DestinationType, str]] = ..., protection_time_period: _Optional[_Union[TimePeriod, _Mapping]] = ..., restore_point_preference: _Optional[_Union[RestorePointPreference, str]] = ..., tags: _Optional[_Iterable[_Union[RestorePointTag, str]]] = ..., protection_unit_ids: _Optional[_Iterable[str]] = ..., mailboxes: _Optional[_Iterable[str]] = ..., directory_object_ids: _Optional[_Iterable[str]] = ..., created_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_by: _Optional[_Union[IdentitySet, _Mapping]] = ..., last_modified_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_modified_by: _Optional[_Union[IdentitySet, _Mapping]] = ..., error: _Optional[_Union[PublicError, _Mapping]] = ..., restore_session_id: _Optional[str] = ...) -> None: ...

class ArtifactQuery(_message.Message):
    __slots__ = ("artifact_type", "query_expression")
    ARTIFACT_TYPE_FIELD_NUMBER: _ClassVar[int]
    QUERY_EXPRESSION_FIELD_NUMBER: _ClassVar[int]
    artifact_type: RestorableArtifact
    query_expression: str
    def __init__(self, artifact_type: _Optional[_Union[RestorableArtifact, str]] = ..., query_expression: _Optional[str] = ...) -> None: ...

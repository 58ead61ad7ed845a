import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from graphrestore.v1 import restore_session_pb2 as _restore_session_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BrowseSessionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BROWSE_SESSION_STATUS_UNSPECIFIED: _ClassVar[BrowseSessionStatus]
    BROWSE_SESSION_STATUS_CREATING: _ClassVar[BrowseSessionStatus]
    BROWSE_SESSION_STATUS_CREATED: _ClassVar[BrowseSessionStatus]
    BROWSE_SESSION_STATUS_FAILED: _ClassVar[BrowseSessionStatus]
    BROWSE_SESSION_STATUS_UNKNOWN_FUTURE_VALUE: _ClassVar[BrowseSessionStatus]

class BrowsableResourceType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BROWSABLE_RESOURCE_TYPE_UNSPECIFIED: _ClassVar[BrowsableResourceType]
    BROWSABLE_RESOURCE_TYPE_SITE: _ClassVar[BrowsableResourceType]
    BROWSABLE_RESOURCE_TYPE_DOCUMENT_LIBRARY: _ClassVar[BrowsableResourceType]
    BROWSABLE_RESOURCE_TYPE_FOLDER: _ClassVar[BrowsableResourceType]
    BROWSABLE_RESOURCE_TYPE_UNKNOWN_FUTURE_VALUE: _ClassVar[BrowsableResourceType]

class BrowseQueryResponseItemType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BROWSE_QUERY_RESPONSE_ITEM_TYPE_UNSPECIFIED: _ClassVar[BrowseQueryResponseItemType]
    BROWSE_QUERY_RESPONSE_ITEM_TYPE_NONE: _ClassVar[BrowseQueryResponseItemType]
    BROWSE_QUERY_RESPONSE_ITEM_TYPE_SITE: _ClassVar[BrowseQueryResponseItemType]
    BROWSE_QUERY_RESPONSE_ITEM_TYPE_DOCUMENT_LIBRARY: _ClassVar[BrowseQueryResponseItemType]
    BROWSE_QUERY_RESPONSE_ITEM_TYPE_FOLDER: _ClassVar[BrowseQueryResponseItemType]
    BROWSE_QUERY_RESPONSE_ITEM_TYPE_FILE: _ClassVar[BrowseQueryResponseItemType]
    BROWSE_QUERY_RESPONSE_ITEM_TYPE_UNKNOWN_FUTURE_VALUE: _ClassVar[BrowseQueryResponseItemType]

class BrowseQueryOrder(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BROWSE_QUERY_ORDER_UNSPECIFIED: _ClassVar[BrowseQueryOrder]
    BROWSE_QUERY_ORDER_PATH_ASC: _ClassVar[BrowseQueryOrder]
    BROWSE_QUERY_ORDER_PATH_DSC: _ClassVar[BrowseQueryOrder]
    BROWSE_QUERY_ORDER_NAME_ASC: _ClassVar[BrowseQueryOrder]
    BROWSE_QUERY_ORDER_NAME_DSC: _ClassVar[BrowseQueryOrder]
BROWSE_SESSION_STATUS_UNSPECIFIED: BrowseSessionStatus
BROWSE_SESSION_STATUS_CREATING: BrowseSessionStatus
BROWSE_SESSION_STATUS_CREATED: BrowseSessionStatus
BROWSE_SESSION_STATUS_FAILED: BrowseSessionStatus
BROWSE_SESSION_STATUS_UNKNOWN_FUTURE_VALUE: BrowseSessionStatus
BROWSABLE_RESOURCE_TYPE_UNSPECIFIED: BrowsableResourceType
BROWSABLE_RESOURCE_TYPE_SITE: BrowsableResourceType
BROWSABLE_RESOURCE_TYPE_DOCUMENT_LIBRARY: BrowsableResourceType
BROWSABLE_RESOURCE_TYPE_FOLDER: BrowsableResourceType
BROWSABLE_RESOURCE_TYPE_UNKNOWN_FUTURE_VALUE: BrowsableResourceType
BROWSE_QUERY_RESPONSE_ITEM_TYPE_UNSPECIFIED: BrowseQueryResponseItemType
BROWSE_QUERY_RESPONSE_ITEM_TYPE_NONE: BrowseQueryResponseItemType
BROWSE_QUERY_RESPONSE_ITEM_TYPE_SITE: BrowseQueryResponseItemType
BROWSE_QUERY_RESPONSE_ITEM_TYPE_DOCUMENT_LIBRARY: BrowseQueryResponseItemType
BROWSE_QUERY_RESPONSE_ITEM_TYPE_FOLDER: BrowseQueryResponseItemType
BROWSE_QUERY_RESPONSE_ITEM_TYPE_FILE: BrowseQueryResponseItemType
BROWSE_QUERY_RESPONSE_ITEM_TYPE_UNKNOWN_FUTURE_VALUE: BrowseQueryResponseItemType
BROWSE_QUERY_ORDER_UNSPECIFIED: BrowseQueryOrder
BROWSE_QUERY_ORDER_PATH_ASC: BrowseQueryOrder
BROWSE_QUERY_ORDER_PATH_DSC: BrowseQueryOrder
BROWSE_QUERY_ORDER_NAME_ASC: BrowseQueryOrder
BROWSE_QUERY_ORDER_NAME_DSC: BrowseQueryOrder

class BrowseSession(_message.Message):
    __slots__ = ("id", "backup_size_in_bytes", "created_date_time", "expiration_date_time", "restore_point_date_time", "restore_point_id", "status", "error", "directory_object_id", "site_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    BACKUP_SIZE_IN_BYTES_FIELD_NUMBER: _ClassVar[int]
    CREATED_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPIRATION_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    RESTORE_POINT_DATE_TIME_FIELD_NUMBER: _ClassVar[int]
    RESTORE_POINT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    DIRECTORY_OBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    backup_size_in_bytes: int
    created_date_time: _timestamp_pb2.Timestamp
    expiration_date_time: _timestamp_pb2.Timestamp
    restore_point_date_time: _timestamp_pb2.Timestamp
    restore_point_id: str
    status: BrowseSessionStatus
    error: _restore_session_pb2.PublicError
    directory_object_id: str
    site_id: str
    def __init__(self, id: _Optional[str] = ..., backup_size_in_bytes: _Optional[int] = ..., created_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expiration_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., restore_point_date_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., restore_point_id: _Optional[str] = ..., status: _Optional[_Union[BrowseSessionStatus, str]] = ..., error: _Optional[_Union[_restore_session_pb2.PublicError, _Mapping]] = ..., directory_object_id: _Optional[str] = ..., site_id: _Optional[str] = ...) -> None: ...

class BrowseQueryResponseItem(_message.Message):
    __slots__ = ("item_key", "items_count", "name", "size_in_bytes", "type", "web_url")
    ITEM_KEY_FIELD_NUMBER: _ClassVar[int]
    ITEMS_COUNT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SIZE_IN_BYTES_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    WEB_URL_FIELD_NUMBER: _ClassVar[int]
    item_key: str
    items_count: int
    name: str
    size_in_bytes: int
    type: BrowseQueryResponseItemType
    web_url: str
    def __init__(self, item_key: _Optional[str] = ..., items_count: _Optional[int] = ..., name: _Optional[str] = ..., size_in_bytes: _Optional[int] = ..., type: _Optional[_Union[BrowseQueryResponseItemType, str]] = ..., web_url: _Optional[str] = ...) -> None: ...

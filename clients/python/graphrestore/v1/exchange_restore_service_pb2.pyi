from google.protobuf import empty_pb2 as _empty_pb2
from graphrestore.v1 import onedrive_restore_service_pb2 as _onedrive_restore_service_pb2
from graphrestore.v1 import restore_session_pb2 as _restore_session_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AddMailboxRestoreArtifactsRequest(_message.Message):
    __slots__ = ("restore_session_id", "mailbox_restore_artifacts", "request_id")
    RESTORE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    MAILBOX_RESTORE_ARTIFACTS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    restore_session_id: str
    mailbox_restore_artifacts: _containers.RepeatedCompositeFieldContainer[_restore_session_pb2.MailboxRestoreArtifact]
    request_id: str
    def __init__(self, restore_session_id: _Optional[str] = ..., mailbox_restore_artifacts: _Optional[_Iterable[_Union[_restore_session_pb2.MailboxRestoreArtifact, _Mapping]]] = ..., request_id: _Optional[str] = ...) -> None: ...

class AddMailboxRestoreArtifactsResponse(_message.Message):
    __slots__ = ("added", "failed")
    ADDED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    added: _containers.RepeatedCompositeFieldContainer[_restore_session_pb2.MailboxRestoreArtifact]
    failed: _containers.RepeatedCompositeFieldContainer[_restore_session_pb2.MailboxRestoreArtifact]
    def __init__(self, added: _Optional[_Iterable[_Union[_restore_session_pb2.MailboxRestoreArtifact, _Mapping]]] = ..., failed: _Optional[_Iterable[_Union[_restore_session_pb2.MailboxRestoreArtifact, _Mapping]]] = ...) -> None: ...

class RemoveMailboxRestoreArtifactsRequest(_message.Message):
    __slots__ = ("restore_session_id", "mailbox_restore_artifact_ids", "request_id")
    RESTORE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    MAILBOX_RESTORE_ARTIFACT_IDS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    restore_session_id: str
    mailbox_restore_artifact_ids: _containers.RepeatedScalarFieldContainer[str]
    request_id: str
    def __init__(self, restore_session_id: _Optional[str] = ..., mailbox_restore_artifact_ids: _Optional[_Iterable[str]] = ..., request_id: _Optional[str] = ...) -> None: ...

class RemoveMailboxRestoreArtifactsResponse(_message.Message):
    __slots__ = ("removed_ids", "failed")
    REMOVED_IDS_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    removed_ids: _containers.RepeatedScalarFieldContainer[str]
    failed: _containers.RepeatedCompositeFieldContainer[_restore_session_pb2.MailboxRestoreArtifact]
    def __init__(self, removed_ids: _Optional[_Iterable[str]] = ..., failed: _Optional[_Iterable[_Union[_restore_session_pb2.MailboxRestoreArtifact, _Mapping]]] = ...) -> None: ...

class ListMailboxRestoreArtifactsRequest(_message.Message):
    __slots__ = ("restore_session_id", "page_size", "page_token")
    RESTORE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    restore_session_id: str
    page_size: int
    page_token: str
    def __init__(self, restore_session_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListMailboxRestoreArtifactsResponse(_message.Message):
    __slots__ = ("mailbox_restore_artifacts", "next_page_token")
    MAILBOX_RESTORE_ARTIFACTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    mailbox_restore_artifacts: _containers.RepeatedCompositeFieldContainer[_restore_session_pb2.MailboxRestoreArtifact]
    next_page_token: str
    def __init__(self, mailbox_restore_artifacts: _Optional[_Iterable[_Union[_restore_session_pb2.MailboxRestoreArtifact, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CreateMailboxRestoreArtifactsBulkAdditionRequestRequest(_message.Message):
    __slots__ = ("restore_session_id", "bulk_addition_request", "request_id", "validate_only")
    RESTORE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    BULK_ADDITION_REQUEST_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    restore_session_id: str
    bulk_addition_request: _restore_session_pb2.MailboxRestoreArtifactsBulkAdditionRequest
    request_id: str
    validate_only: bool
    def __init__(self, restore_session_id: _Optional[str] = ..., bulk_addition_request: _Optional[_Union[_restore_session_pb2.MailboxRestoreArtifactsBulkAdditionRequest, _Mapping]] = ..., request_id: _Optional[str] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class GetMailboxRestoreArtifactsBulkAdditionRequestRequest(_message.Message):
    __slots__ = ("restore_session_id", "bulk_addition_request_id")
    RESTORE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    BULK_ADDITION_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    restore_session_id: str
    bulk_addition_request_id: str
    def __init__(self, restore_session_id: _Optional[str] = ..., bulk_addition_request_id: _Optional[str] = ...) -> None: ...

class ListMailboxRestoreArtifactsBulkAdditionRequestsRequest(_message.Message):
    __slots__ = ("restore_session_id",)
    RESTORE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    restore_session_id: str
    def __init__(self, restore_session_id: _Optional[str] = ...) -> None: ...

class ListMailboxRestoreArtifactsBulkAdditionRequestsResponse(_message.Message):
    __slots__ = ("bulk_addition_requests",)
    BULK_ADDITION_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    bulk_addition_requests: _containers.RepeatedCompositeFieldContainer[_restore_session_pb2.MailboxRestoreArtifactsBulkAdditionRequest]
    def __init__(self, bulk_addition_requests: _Optional[_Iterable[_Union[_restore_session_pb2.MailboxRestoreArtifactsBulkAdditionRequest, _Mapping]]] = ...) -> None: ...

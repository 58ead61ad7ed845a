from graphrestore.v1 import restore_session_pb2 as _restore_session_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
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

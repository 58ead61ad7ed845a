"""Server reflection that keeps the comments of our .proto files.

Python's descriptor pool drops source info, so stock reflection serves the API without
the comments that `grpcurl describe` would show. This servicer swaps in the files from
the descriptor set generated with --include_source_info."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable
from importlib import resources
from typing import Any

from google.protobuf import descriptor_pb2
from grpc_reflection.v1alpha import reflection_pb2
from grpc_reflection.v1alpha._async import ReflectionServicer

DESCRIPTOR_SET = ("graphrestore.v1", "graphrestore_v1.binpb")


def documented_files() -> dict[str, bytes]:
    """File name -> serialized FileDescriptorProto with comments."""
    package, name = DESCRIPTOR_SET
    raw = resources.files(package).joinpath(name).read_bytes()
    files = descriptor_pb2.FileDescriptorSet.FromString(raw).file
    return {f.name: f.SerializeToString() for f in files}


class DocumentedReflectionServicer(ReflectionServicer):
    def __init__(self, service_names: Iterable[str]) -> None:
        super().__init__(service_names)
        self._documented = documented_files()

    def _with_comments(
        self, response: reflection_pb2.ServerReflectionResponse
    ) -> reflection_pb2.ServerReflectionResponse:
        files = response.file_descriptor_response.file_descriptor_proto
        for index, raw in enumerate(files):
            name = descriptor_pb2.FileDescriptorProto.FromString(raw).name
            files[index] = self._documented.get(name, raw)
        return response

    # types-grpcio-reflection declares the parent as a coroutine; it is an async generator.
    async def ServerReflectionInfo(  # type: ignore[override]
        self,
        request_iterator: AsyncIterable[reflection_pb2.ServerReflectionRequest],
        context: Any,
    ) -> AsyncIterator[reflection_pb2.ServerReflectionResponse]:
        responses: Any = super().ServerReflectionInfo(request_iterator, context)
        async for response in responses:
            yield self._with_comments(response)

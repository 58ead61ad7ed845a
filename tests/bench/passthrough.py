"""The floor `make bench` holds the gateway to: a bare grpc.aio server that forwards
CreateRestoreSession to Graph with aiohttp (token fetched once, JSON in and out, nothing
else: no identity, policy, records, audit, budget or retries).

    python passthrough.py GRAPH_URL CA_FILE TOKEN  -> prints its port, serves until killed
"""

from __future__ import annotations

import asyncio
import json
import ssl
import sys
from typing import Any

import aiohttp
import grpc
from google.protobuf import json_format
from graphrestore.v1 import onedrive_restore_service_pb2 as service_pb
from graphrestore.v1 import onedrive_restore_service_pb2_grpc as service_grpc
from graphrestore.v1 import restore_session_pb2 as pb

CREATE_PATH = "/v1.0/solutions/backupRestore/oneDriveForBusinessRestoreSessions"
DESTINATIONS = {pb.DESTINATION_TYPE_NEW: "new", pb.DESTINATION_TYPE_IN_PLACE: "inPlace"}


class Passthrough(service_grpc.OneDriveRestoreServiceServicer):
    def __init__(self, session: aiohttp.ClientSession, url: str, token: str) -> None:
        self._session = session
        self._url = url
        self._headers = {"Authorization": f"Bearer {token}"}

    async def CreateRestoreSession(
        self, request: service_pb.CreateRestoreSessionRequest, context: Any
    ) -> pb.RestoreSession:
        body = {
            "driveRestoreArtifacts": [
                {
                    "restorePoint": {"id": a.restore_point.id},
                    "destinationType": DESTINATIONS[a.destination_type],
                }
                for a in request.restore_session.drive_restore_artifacts
            ]
        }
        async with self._session.post(self._url, json=body, headers=self._headers) as answer:
            created = json.loads(await answer.read())
        return pb.RestoreSession(
            id=created["id"],
            status=pb.RESTORE_SESSION_STATUS_DRAFT,
            restore_session_artifact_count=json_format.ParseDict(
                created["restoreSessionArtifactCount"], pb.RestoreSessionArtifactCount()
            ),
        )


async def serve(graph_url: str, ca_file: str, token: str) -> None:
    context = ssl.create_default_context(cafile=ca_file)
    connector = aiohttp.TCPConnector(ssl=context, limit=100)
    async with aiohttp.ClientSession(connector=connector) as session:
        server = grpc.aio.server()
        service_grpc.add_OneDriveRestoreServiceServicer_to_server(
            Passthrough(session, graph_url + CREATE_PATH, token), server
        )
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        print(port, flush=True)
        await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(serve(*sys.argv[1:4]))

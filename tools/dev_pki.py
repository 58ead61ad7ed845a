"""Write a throwaway internal CA, the gateway's server certificate, two callers' client
certificates and a two-caller policy into OUT_DIR, to try GRAPHRESTORE_AUTH=mtls locally."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from pki import Authority

POLICY = """\
# backup-bot may do what `make run`'s lines do: a session, and the whole tenant's restore
# (restorectl restore --csv), to new locations only.
[[callers]]
id = "spiffe://corp/ns/payroll/sa/backup-bot"
workloads = ["onedrive", "sharepoint", "exchange"]
methods = [
  "CreateRestoreSession", "ActivateRestoreSession", "GetRestoreSession", "WatchRestoreSession",
  "CreateDriveRestoreArtifactsBulkAdditionRequest", "GetDriveRestoreArtifactsBulkAdditionRequest",
  "CreateSiteRestoreArtifactsBulkAdditionRequest", "GetSiteRestoreArtifactsBulkAdditionRequest",
  "CreateMailboxRestoreArtifactsBulkAdditionRequest",
  "GetMailboxRestoreArtifactsBulkAdditionRequest",
  "ListDriveRestoreArtifacts", "ListSiteRestoreArtifacts", "ListMailboxRestoreArtifacts",
]
destination_types = ["new"]
max_artifacts = 1000

[[callers]]
id = "spiffe://corp/ns/helpdesk/*"
methods = ["GetRestoreSession", "ListRestoreSessions"]
sessions = "any"
"""


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    ca = Authority(out, "internal")
    ca.issue("gateway", "graphrestore", server=True)
    ca.issue("backup-bot", "backup-bot", uri="spiffe://corp/ns/payroll/sa/backup-bot")
    ca.issue("helpdesk", "helpdesk", uri="spiffe://corp/ns/helpdesk/sa/agent")
    (out / "policy.toml").write_text(POLICY)
    print(f"wrote {', '.join(sorted(p.name for p in out.iterdir()))} to {out}")


if __name__ == "__main__":
    main()

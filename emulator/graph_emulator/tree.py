"""What a protected drive or site held: its site, document libraries, folders and files,
seeded from the unit's id (the same tree for the same seed), each file with the time it
appeared, its size and when it was last changed, so each restore point shows the tree as
it was then.

Item keys follow the documented examples: comma-joined GUIDs, two for a site (site, web),
three for a document library (and its list), four for a folder or file (and its item)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

SITE, LIBRARY, FOLDER, FILE = "site", "documentLibrary", "folder", "file"
ONEDRIVE_HOST = "https://contoso-my.sharepoint.com/personal"
# The library every site and drive has, and its URL segment (a drive's, a site's).
DOCUMENTS = "Documents"
DOCUMENTS_URL = {False: "Documents", True: "Shared Documents"}
# A drive holds one library; a site also this one.
SITE_ASSETS = ("Site Assets", "SiteAssets")
# How far back before the seed's epoch seeded files appeared (and were last changed).
SEEDED_HISTORY = timedelta(days=30)


@dataclass
class Item:
    """One site, library, folder or file. A file changed after it appeared had another
    size before `modified`."""

    key: str
    name: str
    type: str
    # Site-relative path by names, "/Documents/Finance/budget.xlsx"; "" for the site.
    path: str
    web_url: str
    appeared: datetime
    modified: datetime
    size: int = 0
    size_before: int = 0
    children: list[Item] = field(default_factory=list)

    def exists_at(self, moment: datetime) -> bool:
        return self.appeared <= moment

    def visible_children(self, moment: datetime) -> list[Item]:
        return [child for child in self.children if child.exists_at(moment)]

    def size_at(self, moment: datetime) -> int:
        """Bytes at `moment`: a file's version then, a container's files summed."""
        if self.type == FILE:
            return self.size if moment >= self.modified else self.size_before
        return sum(child.size_at(moment) for child in self.visible_children(moment))

    def walk(self) -> Iterator[Item]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class Tree:
    """A unit's site and everything under it, with every item by key."""

    site: Item
    by_key: dict[str, Item] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_key = {item.key: item for item in self.site.walk()}


class _Builder:
    """Adds items under a parent with keys and URLs derived from it."""

    def __init__(self, namespace: uuid.UUID, rng: random.Random, since: datetime) -> None:
        self.namespace = namespace
        self.rng = rng
        self.since = since

    def guid(self, path: str) -> str:
        return str(uuid.uuid5(self.namespace, path))

    def library(self, site: Item, names: tuple[str, str]) -> Item:
        name, url_segment = names
        library = Item(
            key=f"{site.key},{self.guid(name)}",
            name=name,
            type=LIBRARY,
            path=f"/{name}",
            web_url=f"{site.web_url}/{url_segment}",
            appeared=self.since,
            modified=self.since,
        )
        site.children.append(library)
        return library

    def folder(self, parent: Item, name: str) -> Item:
        folder = self._child(parent, name, FOLDER)
        folder.appeared = folder.modified = self.since
        return folder

    def file(self, parent: Item, name: str, key: str = "", settled: bool = False) -> Item:
        """A file that appeared within the seeded history, or before it when `settled`
        (the files people name: in every restore point)."""
        item = self._child(parent, name, FILE, key)
        span = int(SEEDED_HISTORY.total_seconds())
        item.appeared = self.since + timedelta(seconds=self.rng.randrange(span))
        if settled:
            item.appeared -= SEEDED_HISTORY
        # Half the files changed later (some after the newest restore points).
        changed = self.rng.random() < 0.5
        later = timedelta(seconds=self.rng.randrange(span)) if changed else timedelta()
        item.modified = item.appeared + later
        item.size = self.rng.randrange(200, 5_000_000)
        item.size_before = self.rng.randrange(200, 5_000_000) if changed else item.size
        return item

    def _child(self, parent: Item, name: str, kind: str, key: str = "") -> Item:
        path = f"{parent.path}/{name}"
        library_key = ",".join(parent.key.split(",")[:3])
        child = Item(
            key=key or f"{library_key},{self.guid(path)}",
            name=name,
            type=kind,
            path=path,
            web_url=f"{parent.web_url}/{name}",
            appeared=self.since,
            modified=self.since,
        )
        parent.children.append(child)
        return child


def seeded_tree(
    unit_id: str, name: str, web_url: str, is_site: bool, epoch: datetime, site_key: str = ""
) -> Tree:
    """The tree of a drive (one library, Documents) or a site (Documents and Site Assets),
    from the unit's id: fixed folders people name (Finance, Contracts/msa.docx, Projects,
    Photos with more items than a browse page) and seeded files, sizes and times."""
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"tree:{unit_id}")
    rng = random.Random(namespace.int)
    since = epoch - SEEDED_HISTORY - timedelta(days=30)
    build = _Builder(namespace, rng, epoch - SEEDED_HISTORY)
    site = Item(
        key=site_key or f"{build.guid('site')},{build.guid('web')}",
        name=name,
        type=SITE,
        path="",
        web_url=web_url,
        appeared=since,
        modified=since,
    )
    documents = build.library(site, (DOCUMENTS, DOCUMENTS_URL[is_site]))
    finance = build.folder(documents, "Finance")
    for file_name in ("budget-2026.xlsx", *(f"forecast-q{q}.xlsx" for q in range(1, 5))):
        build.file(finance, file_name, settled=True)
    invoices = build.folder(finance, "Invoices")
    for number in range(rng.randrange(12, 26)):
        build.file(invoices, f"invoice-{number + 1:05d}.pdf")
    contracts = build.folder(documents, "Contracts")
    build.file(contracts, "msa.docx", settled=True)
    for vendor in rng.sample(["fabrikam", "northwind", "adventure-works", "tailspin"], 3):
        build.file(contracts, f"nda-{vendor}.docx")
    projects = build.folder(documents, "Projects")
    for project in rng.sample(["apollo", "borealis", "cygnus", "draco", "eridanus"], 3):
        folder = build.folder(projects, project)
        for file_name in ("plan.docx", "notes.txt", "status.pptx"):
            build.file(folder, file_name, settled=True)
    photos = build.folder(documents, "Photos")
    for number in range(rng.randrange(25, 41)):
        build.file(photos, f"IMG_{number + 1:04d}.jpg")
    build.file(documents, "readme.txt", settled=True)
    if is_site:
        assets = build.library(site, SITE_ASSETS)
        for file_name in ("logo.png", "theme.css"):
            build.file(assets, file_name, settled=True)
    return Tree(site)


def onedrive_web_url(email: str) -> str:
    """A OneDrive's personal site, as the documented top browse item names it."""
    return f"{ONEDRIVE_HOST}/{email.replace('@', '_').replace('.', '_')}"


def documented_tree(unit_id: str, epoch: datetime, site_key: str, item_keys: list[str]) -> Tree:
    """The seeded tree of the unit Microsoft's browse examples name, whose site key the
    documented browse request names, with a file for each item key the documented
    granular requests name (under Documents: the keys are opaque to a caller)."""
    tree = seeded_tree(unit_id, "Communication site", "https://contoso.sharepoint.com", True, epoch)
    site = tree.site
    # Re-key the site and its libraries to the documented site key.
    old_site_key = site.key
    for item in site.walk():
        item.key = site_key + item.key.removeprefix(old_site_key)
    documents = site.children[0]
    build = _Builder(uuid.uuid5(uuid.NAMESPACE_URL, f"tree:{unit_id}"), random.Random(0), epoch)
    for index, key in enumerate(item_keys):
        build.file(documents, f"documented-{index + 1}.docx", key, settled=True)
    return Tree(site)

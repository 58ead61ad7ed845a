"""The documentation says only what exists: every command its code blocks show that starts
with `make`, `restorectl` or `graphrestore-` names a make target or a (sub)command that
answers `--help`; every relative link reaches a file and heading; every policy example
loads; every setting the gateway reads is in the settings table."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
from graphrestore_gateway.access.policy import load_policy
from processes import BIN, ROOT

DOCS = sorted(
    [
        ROOT / "README.md",
        *(ROOT / "docs").glob("*.md"),
        ROOT / "emulator" / "README.md",
        *(ROOT / "clients").glob("*/README.md"),
    ]
)
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.M | re.S)
COMMAND = re.compile(r"^(make|restorectl|graphrestore-[a-z]+)$")
# The shell's separators between commands on one line.
SEPARATOR = re.compile(r"\s*(?:&&|\|\||;|\|)\s*")
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
# Options of restorectl and the gateway that take no value (any other takes the next word).
FLAGS = {"--json", "-h", "--help"}
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def code_blocks(doc: Path, language: str | None = None) -> list[str]:
    return [
        body
        for lang, body in FENCE.findall(doc.read_text())
        if language is None or lang == language
    ]


def commands_in(block: str) -> list[list[str]]:
    """Each command of a code block, as words: prompts, `VAR=value` prefixes and the
    `.venv/bin/` path taken off, continued lines joined, chained commands split."""
    found = []
    for line in block.replace("\\\n", " ").splitlines():
        for part in SEPARATOR.split(line.strip().removeprefix("$ ")):
            try:
                words = shlex.split(part, comments=True)
            except ValueError:  # an output line with an odd quote
                continue
            while words and ASSIGNMENT.match(words[0]):
                words.pop(0)
            if words:
                words[0] = words[0].removeprefix(".venv/bin/")
            if words and COMMAND.match(words[0]):
                found.append(words)
    return found


def documented_commands() -> dict[tuple[str, ...], str]:
    """What each command asks to exist (a make target, or a command and its subcommand),
    and the first place that shows it."""
    asked: dict[tuple[str, ...], str] = {}
    for doc in DOCS:
        for block in code_blocks(doc):
            for words in commands_in(block):
                for need in needs(words):
                    asked.setdefault(need, f"{doc.relative_to(ROOT)}: {' '.join(words)}")
    return asked


def needs(words: list[str]) -> list[tuple[str, ...]]:
    command, arguments = words[0], words[1:]
    if command == "make":
        targets = [a for a in arguments if not a.startswith("-") and "=" not in a]
        return [("make", t) for t in targets] or [("make",)]
    return [(command, *subcommand(arguments))]


def subcommand(arguments: list[str]) -> list[str]:
    """The first word that is neither an option, an option's value, nor a shell variable
    (`$BOT` stands for options); none when the command is run bare or with options only."""
    takes_value = False
    for word in arguments:
        if word.startswith("$"):
            takes_value = False
        elif word.startswith("-"):
            takes_value = word not in FLAGS and "=" not in word
        elif takes_value:
            takes_value = False
        else:
            return [word] if re.fullmatch(r"[a-z][a-z-]*", word) else []
    return []


def make_targets() -> set[str]:
    makefile = (ROOT / "Makefile").read_text()
    rules = re.findall(r"^([A-Za-z0-9_.-][A-Za-z0-9_. -]*):(?!=)", makefile, re.M)
    return {target for rule in rules for target in rule.split()}


COMMANDS = documented_commands()


def test_the_docs_show_commands_at_all() -> None:
    # A parser that finds nothing would pass every check below.
    assert ("make", "run") in COMMANDS
    assert ("make", "test") in COMMANDS
    assert any(need[0] == "restorectl" for need in COMMANDS)
    assert any(need[0].startswith("graphrestore-") for need in COMMANDS)


@pytest.mark.parametrize("need", sorted(COMMANDS), ids=" ".join)
def test_each_documented_command_exists(need: tuple[str, ...]) -> None:
    where = COMMANDS[need]
    if need[0] == "make":
        assert need[1:] == () or need[1] in make_targets(), f"no make target: {where}"
        return
    answered = subprocess.run(
        [str(BIN / need[0]), *need[1:], "--help"], capture_output=True, text=True, timeout=60
    )
    assert answered.returncode == 0, f"{where}\n{answered.stderr}"
    assert answered.stdout.strip(), where


def slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def anchors(doc: Path) -> set[str]:
    prose = FENCE.sub("", doc.read_text())
    return {slug(h) for h in re.findall(r"^#{1,6} (.+)$", prose, re.M)}


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: str(d.relative_to(ROOT)))
def test_relative_links_reach_a_file_and_its_heading(doc: Path) -> None:
    for target in LINK.findall(FENCE.sub("", doc.read_text())):
        if re.match(r"^[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (doc.parent / path).resolve() if path else doc
        assert linked.exists(), f"{doc.relative_to(ROOT)}: {target}"
        if anchor and linked.suffix == ".md":
            assert anchor in anchors(linked), f"{doc.relative_to(ROOT)}: {target}"


def test_every_policy_example_loads(tmp_path: Path) -> None:
    examples = [b for doc in DOCS for b in code_blocks(doc, "toml")]
    assert examples
    for number, example in enumerate(examples):
        policy = tmp_path / f"example-{number}.toml"
        policy.write_text(example)
        assert load_policy(policy).rules


def test_every_setting_the_gateway_reads_is_in_the_settings_table() -> None:
    config = (ROOT / "service" / "graphrestore_gateway" / "config.py").read_text()
    read = set(re.findall(r'"((?:GRAPHRESTORE|AZURE)_[A-Z_]+)"', config))
    operations = (ROOT / "docs" / "operations.md").read_text()
    table = operations.split("## Settings", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    documented = {name for row in rows for name in re.findall(r"`([A-Z_]+)`", row.split("|")[1])}
    assert read <= documented, read - documented

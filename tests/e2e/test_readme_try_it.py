"""The README's "Probeer het (try it)" section, run as written, in a copy of the checkout.

The commands are read from README.md (the ``sh`` blocks under the heading, up to the next
``## ``), so the test breaks when the README's lines stop working. They run in a copy of the
working files (tracked and new, not ignored: what a clone would hold), with no activated
venv and no ``GATEWAY_*`` setting, through ``bash`` as a newcomer's terminal would: ``make
run`` in the background ("the first terminal"), then the other lines. The only change is the
port, in the ways the README documents for another port: ``make run PORT=<p>``,
``GATEWAY_BASE_URL=http://127.0.0.1:<p>`` before ``.venv/bin/gateway`` and ``--base-url
http://127.0.0.1:<p>``.

The copy's ``.venv`` is a directory of links to the checkout's own (installed by ``make
install`` there) with a stamp of its own, so ``make run`` in the copy finds the environment
installed and never runs ``pip install -e .`` from the copy, which would repoint the
checkout's editable install at a temporary directory (checked before and after).

Then, as a person with a browser: ``/`` leads to ``/ui/``, the development IdP lists the
demo people, Petra de Vries signs in and the dashboard shows exchanges, a refusal and a
request waiting; the re-identification page shows it. From ``make run`` to that page must
take under two minutes (issue 18: "a fresh clone, following only the README, reaches a filled
``/ui/`` page logged in within two minutes").
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from tests.e2e.conftest import free_port
from tests.e2e.devidp_browser import figure, sign_in, text_of

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
HEADING = "## Probeer het (try it)"
README_PORT = "8000"
LIMIT_SECONDS = 120
GGD_NAME = "GGD Groningen Jeugdgezondheidszorg"


def try_it_commands(readme: str) -> list[str]:
    """The commands of the ``sh`` blocks in the section, exactly as written: a line ending
    in a backslash keeps its continuation (bash joins them), comment lines are dropped (a
    trailing ``# ...`` stays: bash reads it as a comment)."""
    start = readme.index(HEADING + "\n")
    end = readme.find("\n## ", start + len(HEADING))
    section = readme[start : end if end != -1 else len(readme)]
    commands = []
    for block in re.findall(r"^```sh\n(.*?)^```", section, flags=re.MULTILINE | re.DOTALL):
        pending = ""
        for line in block.splitlines():
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            pending += line
            if line.endswith("\\"):
                pending += "\n"
            else:
                commands.append(pending.strip())
                pending = ""
    return commands


def at_port(command: str, port: int) -> str:
    """The README's own recipe for another port, applied to one of its lines."""
    base = f"http://127.0.0.1:{port}"
    command = command.replace(f"http://127.0.0.1:{README_PORT}", base)
    if re.match(r"make run(\s|$)", command):
        return re.sub(r"^make run", f"make run PORT={port}", command)
    if command.startswith(".venv/bin/gateway ") and "GATEWAY_BASE_URL=" not in command:
        return f"GATEWAY_BASE_URL={base} {command}"
    return command


def test_the_commands_are_read_from_the_readme():
    """The extraction itself, on a section written here: blocks, continuations, comments."""
    readme = (
        "# T\n\n## Probeer het (try it)\n\n```sh\nmake run   # serves\n# in a second terminal:\n"
        ".venv/bin/gateway demo traffic  # demo\n```\n\ntext\n\n```sh\n.venv/bin/python a.py "
        "--base-url http://127.0.0.1:8000 \\\n    --key k\n```\n\n## Next\n\n```sh\nnot this\n```\n"
    )
    commands = try_it_commands(readme)
    assert commands == [
        "make run   # serves",
        ".venv/bin/gateway demo traffic  # demo",
        ".venv/bin/python a.py --base-url http://127.0.0.1:8000 \\\n    --key k",
    ]
    assert [at_port(c, 9) for c in commands] == [
        "make run PORT=9   # serves",
        "GATEWAY_BASE_URL=http://127.0.0.1:9 .venv/bin/gateway demo traffic  # demo",
        ".venv/bin/python a.py --base-url http://127.0.0.1:9 \\\n    --key k",
    ]


def working_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and (REPO / name).is_file()]


def checkout_copy(root: Path) -> Path:
    """The working files under ``root/checkout`` (times kept), with a ``.venv`` that is the
    checkout's environment under a stamp of the copy's own."""
    copy = root / "checkout"
    for name in working_files():
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, copy / name)
    venv = copy / ".venv"
    venv.mkdir()
    for entry in (REPO / ".venv").iterdir():
        if not entry.name.startswith(".installed-"):
            (venv / entry.name).symlink_to(entry)
    (venv / ".installed-serve").touch()
    return copy


def plain_environment(home: Path) -> dict[str, str]:
    """A newcomer's shell: the system PATH (no venv on it), a home, nothing of ours."""
    venv_bins = {str(REPO / ".venv" / "bin")}
    if os.environ.get("VIRTUAL_ENV"):
        venv_bins.add(str(Path(os.environ["VIRTUAL_ENV"]) / "bin"))
    path = [p for p in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep)
            if p and p not in venv_bins]
    home.mkdir()
    return {"PATH": os.pathsep.join(path), "HOME": str(home), "LANG": "C.UTF-8"}


def editable_install_points_at_the_checkout() -> str:
    return subprocess.run(
        [str(REPO / ".venv" / "bin" / "python"), "-c", "import gateway; print(gateway.__file__)"],
        cwd="/", capture_output=True, text=True, check=True,
    ).stdout.strip()


def wait_until_ready(url: str, server: subprocess.Popen, log: Path, deadline: float) -> None:
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"make run stopped ({server.returncode}):\n{log.read_text()}")
        try:
            if requests.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the sandbox did not answer /readyz in time:\n{log.read_text()}")


def stop(server: subprocess.Popen) -> None:
    """End ``make run`` and everything it started (its own process group)."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_a_newcomer_follows_the_readme_to_a_filled_page(tmp_path):
    commands = try_it_commands((REPO / "README.md").read_text())
    assert commands and re.match(r"make run(\s|$)", commands[0]), commands
    assert any(" demo traffic" in c for c in commands), commands
    copy = checkout_copy(tmp_path)
    env = plain_environment(tmp_path / "home")
    installed = editable_install_points_at_the_checkout()
    up_to_date = subprocess.run(
        ["make", "-q", ".venv/.installed-serve"], cwd=copy, env=env, capture_output=True
    )
    assert up_to_date.returncode == 0, "make run in the copy would reinstall the package"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "make-run.log"

    began = time.monotonic()
    timeline = {}
    with open(log, "wb") as out:
        server = subprocess.Popen(
            ["bash", "-c", at_port(commands[0], port)],
            cwd=copy, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        wait_until_ready(url, server, log, began + LIMIT_SECONDS)
        timeline["ready"] = time.monotonic() - began
        outputs = {}
        for command in commands[1:]:
            ran = subprocess.run(
                ["bash", "-c", at_port(command, port)],
                cwd=copy, env=env, capture_output=True, text=True, timeout=60,
            )
            assert ran.returncode == 0, f"{command}\n{ran.stdout}\n{ran.stderr}"
            outputs[command] = ran.stdout
        timeline["commands"] = time.monotonic() - began

        # "open http://127.0.0.1:8000/ in a browser": on to /ui/, the IdP, Petra de Vries
        root = requests.get(url + "/", allow_redirects=False, timeout=10)
        assert root.status_code in (301, 302, 303, 307, 308)
        assert urljoin(url + "/", root.headers["Location"]) == url + "/ui/"
        browser, dashboard = sign_in(url, "Petra de Vries", start="/")
        timeline["signed in"] = time.monotonic() - began
        assert dashboard.url == url + "/ui/"
        assert figure(dashboard.text, "uitwisselingen toegestaan") >= 5  # the demo's five
        assert figure(dashboard.text, "uitwisselingen geweigerd") >= 1
        assert figure(dashboard.text, "verzoek om herleiding wacht") == 1
        page = browser.get(url + "/ui/reidentifications", timeout=20)
        assert page.status_code == 200
        assert f"Verzoek van {GGD_NAME}" in text_of(page.text)
        assert "Er zijn geen openstaande verzoeken" not in page.text
    finally:
        stop(server)
    print(f"README try-it timeline (s): {timeline}")
    assert timeline["signed in"] < LIMIT_SECONDS, timeline
    assert editable_install_points_at_the_checkout() == installed
    assert installed.startswith(str(REPO)), installed

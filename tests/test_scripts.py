"""The newcomer's commands on a bare Debian image: `.ci/run` installs what the tests need as root or
through sudo, and where it cannot (no sudo, no apt-get, a refused password) names the packages and the
command and stops; `scripts/venv` (used by scripts/run and scripts/test) installs python3-venv when root or
says exactly what to install, and runs pip only when pyproject.toml changed.

Each script runs as it is, copied into a scratch tree, with a PATH holding only the tools it needs and
fakes of `id`, `sudo`, `apt-get` and `python3` that write what they were asked to a log."""

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ("bash", "dirname", "cat", "cksum", "rm", "mkdir", "cp", "ls", "touch", "env")
LOG = "calls.log"


def _exe(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


class Box:
    """A scratch copy of the repository's scripts with a PATH of real tools and fakes."""

    def __init__(self, tmp: Path):
        self.tree, self.bin, self.log = tmp / "repo", tmp / "bin", tmp / LOG
        for folder in (self.tree / ".ci", self.tree / "scripts", self.bin):
            folder.mkdir(parents=True)
        for tool in TOOLS:
            os.symlink(shutil.which(tool), self.bin / tool)
        shutil.copy(ROOT / ".ci" / "run", self.tree / ".ci" / "run")
        shutil.copy(ROOT / "scripts" / "venv", self.tree / "scripts" / "venv")
        (self.tree / "pyproject.toml").write_text('[project]\nname = "x"\n')
        _exe(self.tree / "scripts" / "test", f'#!/bin/sh\necho "scripts/test $*" >> {self.log}\n')
        self.uid(1000)
        self.fake("apt-get", f'echo "apt-get $*" >> {self.log}; touch {tmp}/venv-installed')

    def uid(self, uid: int) -> None:
        _exe(self.bin / "id", f"#!/bin/sh\necho {uid}\n")

    def fake(self, name: str, body: str) -> None:
        _exe(self.bin / name, f"#!/bin/sh\n{body}\n")

    def python(self, *, ensurepip: bool) -> None:
        """A python3 with or without ensurepip (Debian without python3-venv); its venv's python logs pip."""
        venv_python = _exe(self.bin.parent / "venv-python", f'#!/bin/sh\necho "venv-python $*" >> {self.log}\n')
        marker = self.bin.parent / "venv-installed"
        if ensurepip:
            marker.touch()
        self.fake("python3", f"""echo "python3 $*" >> {self.log}
case "$*" in
  *version_info*) exit 0;;
  *ensurepip*) [ -e {marker} ] || exit 1;;
  "-m venv .venv") mkdir -p .venv/bin && cp {venv_python} .venv/bin/python;;
esac""")

    def run(self, script: str, *args: str) -> subprocess.CompletedProcess:
        self.log.unlink(missing_ok=True)
        return subprocess.run([str(self.tree / script), *args], cwd=self.tree, capture_output=True, text=True,
                              env={"PATH": str(self.bin), "HOME": str(self.bin.parent)}, timeout=60)

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


@pytest.fixture
def box(tmp_path):
    return Box(tmp_path)


# .ci/run: the PATH lacks chromium, chromedriver and wrk; python3 has no ensurepip.
PATH_NEEDS = ("python3-venv", "chromium", "chromium-driver", "wrk")


def test_ci_run_without_root_or_sudo_names_the_packages_and_the_command(box):
    box.python(ensurepip=False)
    done = box.run(".ci/run")
    assert done.returncode == 1
    assert "not root and no sudo" in done.stderr
    command = next(line for line in done.stderr.splitlines() if "apt-get install" in line)
    assert command.split()[:7] == ["apt-get", "update", "&&", "apt-get", "install", "-y", "--no-install-recommends"]
    assert set(PATH_NEEDS) <= set(command.split()[7:])
    assert [c for c in box.calls() if not c.startswith("python3")] == [], "nothing installed, no tests run"


def test_ci_run_installs_through_sudo_when_not_root(box):
    box.python(ensurepip=False)
    box.fake("sudo", f'echo "sudo $*" >> {box.log}; exec "$@"')
    done = box.run(".ci/run")
    assert done.returncode == 0, done.stderr
    calls = [c for c in box.calls() if not c.startswith("python3")]
    assert calls[0] == "sudo apt-get update -qq" and calls[1] == "apt-get update -qq"
    assert calls[2].startswith("sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y")
    assert set(PATH_NEEDS) <= set(calls[2].split())
    assert calls[-1] == "scripts/test "


def test_ci_run_installs_directly_as_root(box):
    box.uid(0)
    box.python(ensurepip=False)
    done = box.run(".ci/run")
    assert done.returncode == 0, done.stderr
    calls = [c for c in box.calls() if not c.startswith("python3")]
    assert calls[0] == "apt-get update -qq" and calls[1].startswith("apt-get install -y -qq --no-install-recommends")
    assert set(PATH_NEEDS) <= set(calls[1].split()) and calls[-1] == "scripts/test "


def test_ci_run_says_what_is_missing_when_sudo_refuses(box):
    box.python(ensurepip=True)
    box.fake("sudo", "echo 'sudo: a password is required' >&2; exit 1")
    done = box.run(".ci/run")
    assert done.returncode == 1 and "apt-get update failed" in done.stderr
    assert "python3-venv" not in done.stderr.split("missing system packages:")[1].splitlines()[0]
    assert "scripts/test " not in box.calls()


def test_ci_run_without_apt_get_says_so(box):
    box.uid(0)
    box.python(ensurepip=True)
    (box.bin / "apt-get").unlink()
    done = box.run(".ci/run")
    assert done.returncode == 1 and "no apt-get" in done.stderr and "chromium" in done.stderr


def test_ci_run_installs_nothing_when_nothing_is_missing(box):
    box.python(ensurepip=True)
    for tool in ("chromium", "chromedriver", "wrk"):
        box.fake(tool, "exit 0")
    if not (Path("/usr/share/fonts/truetype/abyssinica").is_dir() and list(Path("/usr/lib").glob("postgresql/*/bin/initdb"))):
        pytest.skip("this machine lacks PostgreSQL or the Ethiopic font, which .ci/run looks for on disk")
    done = box.run(".ci/run")
    assert done.returncode == 0, done.stderr
    assert [c for c in box.calls() if not c.startswith("python3")] == ["scripts/test "]


# scripts/venv


def test_venv_without_ensurepip_and_without_root_says_what_to_install(box):
    box.python(ensurepip=False)
    done = box.run("scripts/venv", "test")
    assert done.returncode == 1
    assert "python3-venv" in done.stderr and "sudo apt-get install python3-venv" in done.stderr
    assert not (box.tree / ".venv").exists()
    assert not [c for c in box.calls() if c.startswith(("apt-get", "venv-python"))]


def test_venv_installs_python3_venv_as_root_then_creates_the_environment(box):
    box.uid(0)
    box.python(ensurepip=False)
    done = box.run("scripts/venv", "test")
    assert done.returncode == 0, done.stderr
    calls = box.calls()
    assert "apt-get install -y -qq --no-install-recommends python3-venv" in calls
    assert calls.index("python3 -m venv .venv") > calls.index("apt-get install -y -qq --no-install-recommends python3-venv")
    assert "venv-python -m pip install -q -e .[test]" in calls


def test_venv_runs_pip_only_when_pyproject_changed(box):
    box.python(ensurepip=True)
    pip = "venv-python -m pip install -q -e ."
    assert box.run("scripts/venv").returncode == 0 and pip in box.calls()
    assert box.run("scripts/venv").returncode == 0 and not any("pip install" in c for c in box.calls())
    assert box.run("scripts/venv", "test").returncode == 0 and f"{pip}[test]" in box.calls()
    assert box.run("scripts/venv").returncode == 0 and not any("pip install" in c for c in box.calls()), \
        "a test install serves scripts/run too"
    (box.tree / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "2"\n')
    assert box.run("scripts/venv").returncode == 0 and pip in box.calls()
    assert "python3 -m venv .venv" not in box.calls(), "the environment itself is kept"


def test_venv_recreates_an_environment_without_pip(box):
    box.python(ensurepip=True)
    (box.tree / ".venv" / "bin").mkdir(parents=True)
    _exe(box.tree / ".venv" / "bin" / "python", "#!/bin/sh\nexit 1\n")  # what a failed `python3 -m venv` leaves
    done = box.run("scripts/venv")
    assert done.returncode == 0, done.stderr
    assert "recreating .venv" in done.stderr and "python3 -m venv .venv" in box.calls()


def test_venv_refuses_an_old_python(box):
    box.fake("python3", 'case "$*" in *version_info*) exit 1;; -V) echo "Python 3.9.2";; esac')
    done = box.run("scripts/venv")
    assert done.returncode == 1 and "3.11 or later" in done.stderr and "Python 3.9.2" in done.stderr


def test_run_and_test_scripts_set_up_through_scripts_venv():
    for script in ("scripts/run", "scripts/test"):
        text = (ROOT / script).read_text()
        assert "scripts/venv" in text and "-m venv" not in text and "pip install" not in text, script

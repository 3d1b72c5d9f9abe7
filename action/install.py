"""Installs a released fleet binary for this runner, checksum verified.

    python3 install.py resolve   # outputs version, target, install-dir
    python3 install.py install   # downloads, verifies, extracts, adds to PATH

The archives are the ones `dist` publishes: fleet-TARGET.tar.xz (a top-level
directory holding the binary) or fleet-TARGET.zip on Windows, each with
ARCHIVE.sha256 beside it. Nothing is installed unless the archive's sha256
equals the published one; a missing checksum file is a failure too.

Environment: INPUT_VERSION (a tag such as v0.2.0, or `latest`; empty: the
action's own ref when it is a version tag, else latest), FLEET_ACTION_REF,
FLEET_REPOSITORY (owner/name the releases belong to), FLEET_DOWNLOAD_URL
(base URL of release downloads; default https://github.com/REPO/releases/
download), FLEET_INSTALL_DIR, RUNNER_OS, RUNNER_ARCH, RUNNER_TOOL_CACHE,
GITHUB_API_URL, INPUT_GITHUB_TOKEN, GITHUB_OUTPUT, GITHUB_PATH.
"""

import hashlib
import io
import os
import platform
import re
import stat
import sys
import tarfile
import time
import urllib.error
import urllib.request
import zipfile

# Nothing written beside the scripts (the action directory may be read-only).
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from github import ActionError, GitHub, fail, input_value, set_output  # noqa: E402

TARGETS = {
    ("Linux", "X64"): "x86_64-unknown-linux-musl",
    ("Linux", "ARM64"): "aarch64-unknown-linux-musl",
    ("macOS", "ARM64"): "aarch64-apple-darwin",
    ("macOS", "X64"): "x86_64-apple-darwin",
    ("Windows", "X64"): "x86_64-pc-windows-msvc",
    # Windows on Arm runs x86_64 binaries under emulation.
    ("Windows", "ARM64"): "x86_64-pc-windows-msvc",
}
DOWNLOAD_TIMEOUT_SECONDS = 120


def runner_platform():
    """(RUNNER_OS, RUNNER_ARCH), from the runner or, outside one, the host."""
    system = os.environ.get("RUNNER_OS") or {
        "Linux": "Linux",
        "Darwin": "macOS",
        "Windows": "Windows",
    }.get(platform.system(), platform.system())
    arch = os.environ.get("RUNNER_ARCH") or {
        "x86_64": "X64",
        "amd64": "X64",
        "AMD64": "X64",
        "aarch64": "ARM64",
        "arm64": "ARM64",
    }.get(platform.machine(), platform.machine())
    return system, arch


def target_triple():
    system, arch = runner_platform()
    try:
        return TARGETS[(system, arch)]
    except KeyError:
        raise ActionError(
            f"fleet publishes no binary for {system} {arch}; install it with `cargo install --locked --git`"
        ) from None


def repository():
    repo = os.environ.get("FLEET_REPOSITORY", "").strip()
    if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repo):
        raise ActionError(f"FLEET_REPOSITORY must be OWNER/NAME, not {repo!r}")
    return repo


def resolve_version():
    """The release tag to install."""
    wanted = input_value("version")
    if not wanted:
        ref = os.environ.get("FLEET_ACTION_REF", "")
        wanted = ref if re.fullmatch(r"v\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?", ref) else "latest"
    if wanted != "latest":
        return wanted if wanted.startswith("v") else "v" + wanted
    github = GitHub(repository=repository())
    release, _ = github.request("GET", github.url("/releases/latest"))
    return release["tag_name"]


def install_dir(version, target):
    explicit = os.environ.get("FLEET_INSTALL_DIR")
    if explicit:
        return explicit
    base = os.environ.get("RUNNER_TOOL_CACHE") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "fleet", version.lstrip("v"), target)


def archive_name(target):
    return f"fleet-{target}" + (".zip" if "windows" in target else ".tar.xz")


def fetch(url):
    request = urllib.request.Request(url, headers={"User-Agent": "fleet-action"})
    try:
        with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:
            return response.read()
    except urllib.error.HTTPError as err:
        raise ActionError(f"cannot download {url}: HTTP {err.code}") from None
    except urllib.error.URLError as err:
        raise ActionError(f"cannot download {url}: {err.reason}") from None


def published_sha256(text, url):
    """The hex digest of a `.sha256` file (`HEX *NAME` or `HEX  NAME`)."""
    words = text.split()
    if not words or not re.fullmatch(r"[0-9a-fA-F]{64}", words[0]):
        raise ActionError(f"{url} holds no sha256 checksum")
    return words[0].lower()


def extract_binary(archive, name, binary):
    """The bytes of `binary` inside the archive, wherever its directory."""
    if name.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(archive)) as unzipped:
            for member in unzipped.namelist():
                if member.rsplit("/", 1)[-1] == binary:
                    return unzipped.read(member)
    else:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:*") as untarred:
            for member in untarred.getmembers():
                if member.isfile() and member.name.rsplit("/", 1)[-1] == binary:
                    return untarred.extractfile(member).read()
    raise ActionError(f"{name} has no `{binary}` in it")


def install(version, target, directory):
    """Downloads, verifies and installs; returns the binary's path."""
    base = os.environ.get("FLEET_DOWNLOAD_URL") or f"https://github.com/{repository()}/releases/download"
    name = archive_name(target)
    url = f"{base.rstrip('/')}/{version}/{name}"
    started = time.monotonic()
    expected = published_sha256(fetch(url + ".sha256").decode("utf-8", "replace"), url + ".sha256")
    archive = fetch(url)
    actual = hashlib.sha256(archive).hexdigest()
    if actual != expected:
        raise ActionError(
            f"checksum mismatch for {url}: expected sha256 {expected}, got {actual}; nothing was installed"
        )
    binary = "fleet.exe" if "windows" in target else "fleet"
    content = extract_binary(archive, name, binary)
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, binary)
    partial = path + ".partial"
    with open(partial, "wb") as out:
        out.write(content)
    os.chmod(partial, os.stat(partial).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    os.replace(partial, path)
    print(
        f"fleet: installed {version} ({target}) in {directory}, sha256 {actual} verified, "
        f"{time.monotonic() - started:.2f} s"
    )
    return path


def add_to_path(directory):
    github_path = os.environ.get("GITHUB_PATH")
    if github_path:
        with open(github_path, "a", encoding="utf-8") as out:
            out.write(directory + "\n")


def main(argv):
    mode = argv[1] if len(argv) > 1 else ""
    if mode == "resolve":
        version = resolve_version()
        target = target_triple()
        set_output("version", version)
        set_output("target", target)
        set_output("install-dir", install_dir(version, target))
        print(f"fleet: {version} for {target}")
    elif mode == "install":
        version = input_value("version") or resolve_version()
        version = version if version.startswith("v") else "v" + version
        target = target_triple()
        directory = install_dir(version, target)
        install(version, target, directory)
        add_to_path(directory)
    else:
        raise ActionError("usage: install.py resolve|install")


if __name__ == "__main__":
    try:
        main(sys.argv)
    except ActionError as err:
        fail(str(err))

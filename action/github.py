"""What the action's scripts share: inputs and outputs as GitHub passes
them, a small client for the GitHub REST API, and errors a person can act on.

Standard library only: python3 is on every GitHub runner, and the tests run
these scripts as they are, against a fake API on loopback.
"""

import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

# GitHub rejects comments longer than this (fleet's markdown stays under it).
COMMENT_LIMIT = 65536
TIMEOUT_SECONDS = 30


class ActionError(Exception):
    """A failure of the step, with the message to show."""


def fail(message):
    """Prints `message` as a GitHub error annotation and exits 1."""
    print(f"::error title=fleet::{message}", flush=True)
    sys.exit(1)


def warn(message):
    print(f"::warning title=fleet::{message}", flush=True)


def input_value(name, default=""):
    """An input as composite steps pass it: `INPUT_NAME` (dashes as `_`)."""
    value = os.environ.get("INPUT_" + name.upper().replace("-", "_"), "")
    return value.strip() or default


def input_flag(name, default):
    value = input_value(name, "true" if default else "false").lower()
    if value not in ("true", "false"):
        raise ActionError(f"input {name} must be true or false, not {value!r}")
    return value == "true"


def set_output(name, value):
    """Writes a step output (`$GITHUB_OUTPUT`), multi-line safe."""
    path = os.environ.get("GITHUB_OUTPUT")
    if not path:
        return
    value = str(value)
    with open(path, "a", encoding="utf-8") as out:
        if "\n" in value:
            delimiter = "fleet_eof_" + os.urandom(8).hex()
            out.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
        else:
            out.write(f"{name}={value}\n")


def slug(config):
    """`fleet.toml` → `fleet-toml`: the fleet file's part of artifact names."""
    return re.sub(r"[^A-Za-z0-9]+", "-", config).strip("-").lower() or "fleet"


def comment_marker(config):
    """The hidden first line fleet's markdown starts with (same rule as
    `render::markdown::comment_marker`)."""
    return "<!-- fleet: " + config.replace("--", "- -") + " -->"


class GitHub:
    """The REST API of one repository, with the job's token."""

    def __init__(self, token=None, api_url=None, repository=None):
        self.token = token if token is not None else input_value("github-token")
        self.api_url = (api_url or os.environ.get("GITHUB_API_URL") or "https://api.github.com").rstrip("/")
        self.repository = repository or os.environ.get("GITHUB_REPOSITORY", "")
        if not self.repository:
            raise ActionError("GITHUB_REPOSITORY is not set: run this inside a GitHub workflow")

    def url(self, path):
        return f"{self.api_url}/repos/{self.repository}{path}"

    def headers(self):
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "fleet-action",
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def request(self, method, url, body=None):
        """One call; returns (parsed JSON, response headers)."""
        data = None
        headers = self.headers()
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                text = response.read().decode("utf-8")
                return (json.loads(text) if text else None), response.headers
        except urllib.error.HTTPError as err:
            detail = err.read().decode("utf-8", "replace")[:500]
            raise HttpError(method, url, err.code, detail) from None
        except urllib.error.URLError as err:
            raise ActionError(f"{method} {url}: {err.reason}") from None

    def get_all(self, path, key=None):
        """Every item of a paginated list, following `Link: rel="next"`."""
        url = self.url(path)
        url += ("&" if "?" in url else "?") + "per_page=100"
        items = []
        while url:
            page, headers = self.request("GET", url)
            items.extend(page[key] if key else page)
            url = next_link(headers.get("Link", ""))
        return items

    def download(self, url, dest):
        """Downloads an artifact zip. GitHub answers with a redirect to
        storage that must not get the token, so redirects are followed by
        hand, without the Authorization header."""
        request = urllib.request.Request(url, headers=self.headers())
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
                body = response.read()
        except urllib.error.HTTPError as err:
            if err.code not in (301, 302, 303, 307, 308):
                raise HttpError("GET", url, err.code, err.read().decode("utf-8", "replace")[:500]) from None
            location = urllib.parse.urljoin(url, err.headers["Location"])
            plain = urllib.request.Request(location, headers={"User-Agent": "fleet-action"})
            with urllib.request.urlopen(plain, timeout=TIMEOUT_SECONDS) as response:
                body = response.read()
        with open(dest, "wb") as out:
            out.write(body)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class HttpError(ActionError):
    def __init__(self, method, url, status, detail):
        super().__init__(f"{method} {url} answered HTTP {status}: {detail}")
        self.status = status


def next_link(header):
    """The `rel="next"` URL of a Link header, or None."""
    for part in header.split(","):
        match = re.match(r'\s*<([^>]+)>\s*;\s*rel="next"', part)
        if match:
            return match.group(1)
    return None


def event():
    """The webhook payload of the run (`$GITHUB_EVENT_PATH`), or {}."""
    path = os.environ.get("GITHUB_EVENT_PATH")
    if not path or not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as payload:
        return json.load(payload)


def pull_request_number():
    """The pull request this run is about: input `pr-number`, else the
    event's; None outside pull requests."""
    given = input_value("pr-number")
    if given:
        if not given.isdigit():
            raise ActionError(f"input pr-number must be a number, not {given!r}")
        return int(given)
    payload = event()
    number = (payload.get("pull_request") or {}).get("number")
    if number is None and (payload.get("issue") or {}).get("pull_request"):
        number = payload["issue"]["number"]
    return number

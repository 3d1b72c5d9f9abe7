"""Keeps one pull-request comment per fleet file up to date.

The comment is found by the hidden marker on the first line of fleet's own
markdown (`<!-- fleet: FLEET_FILE -->`), edited in place when it exists and
created only when it does not. The body is fleet's markdown unchanged: it is
already under GitHub's 65,536-character limit, cut the way `fleet plan
--format markdown` cuts it, so nothing is cut twice.

Environment: INPUT_GITHUB_TOKEN, INPUT_CONFIG (for the marker when the body
has none), INPUT_PR_NUMBER (optional), FLEET_COMMENT_FILE (the body),
GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_EVENT_PATH, GITHUB_OUTPUT.
"""

import os
import sys

# Nothing written beside the scripts (the action directory may be read-only).
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from github import (  # noqa: E402
    COMMENT_LIMIT,
    ActionError,
    GitHub,
    HttpError,
    comment_marker,
    fail,
    input_value,
    pull_request_number,
    set_output,
    warn,
)


def body_and_marker(text, config):
    """fleet's markdown starts with its marker; anything else gets one."""
    first = text.split("\n", 1)[0].strip()
    if first.startswith("<!-- fleet: ") and first.endswith(" -->"):
        return text, first
    marker = comment_marker(config)
    return f"{marker}\n{text}", marker


def find_comment(github, number, marker):
    """The first comment whose first line is `marker`, over every page."""
    for comment in github.get_all(f"/issues/{number}/comments"):
        body = comment.get("body") or ""
        if body.split("\n", 1)[0].strip() == marker:
            return comment
    return None


def upsert(github, number, body, marker):
    """Edits the fleet file's comment, or creates it; returns the comment."""
    existing = find_comment(github, number, marker)
    if existing is not None:
        comment, _ = github.request(
            "PATCH", github.url(f"/issues/comments/{existing['id']}"), {"body": body}
        )
        print(f"fleet: updated comment {existing['id']} on pull request #{number}")
    else:
        comment, _ = github.request("POST", github.url(f"/issues/{number}/comments"), {"body": body})
        print(f"fleet: created comment {comment['id']} on pull request #{number}")
    return comment


def main():
    path = os.environ.get("FLEET_COMMENT_FILE", "")
    if not path or not os.path.exists(path):
        fail("no comment to post: FLEET_COMMENT_FILE is not set or missing")
    number = pull_request_number()
    if number is None:
        print("fleet: not a pull request, so no comment")
        return
    with open(path, encoding="utf-8") as source:
        text = source.read()
    body, marker = body_and_marker(text, input_value("config", "fleet.toml"))
    if len(body) > COMMENT_LIMIT:
        fail(f"the comment has {len(body)} characters, more than GitHub's {COMMENT_LIMIT}")
    github = GitHub()
    try:
        comment = upsert(github, number, body, marker)
    except HttpError as err:
        if err.status == 403:
            # Pull requests from forks get a read-only token.
            warn(f"cannot comment on pull request #{number} ({err}); the job needs `permissions: pull-requests: write`")
            return
        raise
    set_output("comment-id", comment["id"])
    set_output("comment-url", comment.get("html_url", ""))


if __name__ == "__main__":
    try:
        main()
    except ActionError as err:
        fail(str(err))

#!/usr/bin/env python3
"""Generates a benchmark fleet: a fleet file of A accounts x R regions, the
emulator state that seeds it, and the state a correct apply must leave.

The mix is exact and reproducible (seeded shuffle): ~80 % of the targets are
unchanged (the seed equals the desired configuration, all five flags
explicit), ~10 % to update, ~7 % to create (nothing live), ~3 % to delete
(a `region_profiles` override to the disabled profile `off`, with a live
configuration in the seed).

    gen_fleet.py --accounts 500 --regions 20 --out DIR

writes DIR/fleet.toml, DIR/seed.json (PUT /_emulator/state), DIR/desired.json
(what /_emulator/state must equal after apply) and DIR/expected.json (the
counts `fleet plan` must print). Standard library only.
"""

import argparse
import json
import os
import random
import sys

CALLER_ACCOUNT = "123456789012"

# Commercial-partition Bedrock regions (fleet's built-in list, minus GovCloud),
# so the generated file validates without warnings.
REGIONS = [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1",
    "eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-north-1",
    "ap-northeast-1", "ap-northeast-2", "ap-south-1", "ap-southeast-1",
    "ap-southeast-2", "sa-east-1", "eu-central-2", "eu-south-1", "eu-south-2",
    "ap-northeast-3", "ap-south-2", "ap-southeast-3", "ap-southeast-4",
    "ap-southeast-5", "ap-southeast-7", "ap-east-2", "ca-west-1",
    "mx-central-1", "il-central-1", "me-central-1", "me-south-1",
    "af-south-1",
]

ROLE_NAME = "FleetBenchAdmin"

# The profiles, in the fleet file's own key names (placeholders unexpanded).
PROFILES = {
    "standard": {
        "text_data_delivery_enabled": True,
        "image_data_delivery_enabled": True,
        "embedding_data_delivery_enabled": True,
        "video_data_delivery_enabled": False,
        "audio_data_delivery_enabled": False,
        "s3_config": {
            "bucket_name": "bedrock-logs-{account_id}-{region}",
            "key_prefix": "bedrock-invocations",
        },
        "cloudwatch_config": {
            "log_group_name": "/aws/bedrock/model-invocations",
            "role_arn": "arn:{partition}:iam::{account_id}:role/bedrock-cloudwatch-logging",
            "large_data_delivery_s3_config": {
                "bucket_name": "bedrock-large-{account_id}-{region}",
                "key_prefix": "large-data",
            },
        },
    },
    "text-only": {
        "text_data_delivery_enabled": True,
        "image_data_delivery_enabled": False,
        "embedding_data_delivery_enabled": False,
        "video_data_delivery_enabled": False,
        "audio_data_delivery_enabled": False,
        "s3_config": {"bucket_name": "bedrock-logs-{account_name}-{region}"},
    },
}

FLAGS = [
    "text_data_delivery_enabled",
    "image_data_delivery_enabled",
    "embedding_data_delivery_enabled",
    "video_data_delivery_enabled",
    "audio_data_delivery_enabled",
]


def camel(key):
    head, *rest = key.split("_")
    out = head + "".join(w.capitalize() for w in rest)
    return "cloudWatchConfig" if out == "cloudwatchConfig" else out


def to_api(config):
    """Fleet-file key names -> the API's camelCase JSON (as the emulator stores it)."""
    if isinstance(config, dict):
        return {camel(k): to_api(v) for k, v in config.items()}
    return config


def expand(value, account_id, account_name, region):
    if isinstance(value, dict):
        return {k: expand(v, account_id, account_name, region) for k, v in value.items()}
    if isinstance(value, str):
        return (
            value.replace("{account_id}", account_id)
            .replace("{account_name}", account_name)
            .replace("{region}", region)
            .replace("{partition}", "aws")
        )
    return value


def drift(config, rng):
    """A live configuration that differs from `config` the way hand edits do."""
    live = json.loads(json.dumps(config))
    kind = rng.randrange(4)
    if kind == 0:
        live["video_data_delivery_enabled"] = not live["video_data_delivery_enabled"]
    elif kind == 1:
        live["s3_config"]["key_prefix"] = "old-prefix"
    elif kind == 2 and "cloudwatch_config" in live:
        live["cloudwatch_config"]["log_group_name"] = "/aws/bedrock/legacy"
    else:
        live["text_data_delivery_enabled"] = not live["text_data_delivery_enabled"]
    return live


def toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(value)


# The keys that say "fleet manages this resource" (written as inline tables):
# not part of the logging configuration the emulator stores.
MANAGEMENT_KEYS = ("bucket", "log_group", "role")


def render_profile(lines, path, table):
    lines.append(f"[{path}]")
    for key, value in table.items():
        if key in MANAGEMENT_KEYS:
            inner = ", ".join(f"{k} = {json.dumps(v)}" for k, v in value.items())
            lines.append(f"{key} = {{{(' ' + inner + ' ') if inner else ''}}}")
        elif not isinstance(value, dict):
            lines.append(f"{key} = {toml_value(value)}")
    lines.append("")
    for key, value in table.items():
        if isinstance(value, dict) and key not in MANAGEMENT_KEYS:
            render_profile(lines, f"{path}.{key}", value)


def account_ids(count):
    ids = [CALLER_ACCOUNT]
    n = 0
    while len(ids) < count:
        ids.append(f"{200000000000 + n:012d}")
        n += 1
    return ids[:count]


def generate(accounts, regions, seed=8, all_create=False):
    """The benchmark mix; with all_create, a first rollout instead: nothing
    is live and every target is a create (no managed destinations)."""
    if regions > len(REGIONS):
        sys.exit(f"gen_fleet: at most {len(REGIONS)} regions (asked {regions})")
    rng = random.Random(seed)
    region_list = REGIONS[:regions]
    total = accounts * regions
    if all_create:
        n_delete, n_create, n_update = 0, total, 0
    else:
        n_delete = round(total * 0.03)
        n_create = round(total * 0.07)
        n_update = round(total * 0.10)
    n_unchanged = total - n_delete - n_create - n_update
    kinds = (["delete"] * n_delete + ["create"] * n_create + ["update"] * n_update
             + ["unchanged"] * n_unchanged)
    rng.shuffle(kinds)

    lines = [
        f"# Generated by bench/gen_fleet.py: {accounts} accounts x {regions} regions = {total} targets.",
        "# Expected plan: " + f"{n_create} to create, {n_update} to update, {n_delete} to delete, "
        f"{n_unchanged} unchanged.",
        "",
        "[fleet]",
        f"regions = {toml_value(region_list)}",
        f'role_name = "{ROLE_NAME}"',
        "",
    ]
    for name, profile in PROFILES.items():
        render_profile(lines, f"profiles.{name}", profile)
    lines += ["[profiles.off]", "enabled = false", ""]

    seed_state, desired_state = {}, {}
    for a, account_id in enumerate(account_ids(accounts)):
        name = f"acct-{a:05d}"
        profile = "text-only" if a % 10 == 9 else "standard"
        off_regions = []
        for r, region in enumerate(region_list):
            kind = kinds[a * regions + r]
            key = f"{account_id}/{region}"
            desired = expand(PROFILES[profile], account_id, name, region)
            if kind == "unchanged":
                seed_state[key] = to_api(desired)
                desired_state[key] = to_api(desired)
            elif kind == "update":
                seed_state[key] = to_api(drift(desired, rng))
                desired_state[key] = to_api(desired)
            elif kind == "create":
                desired_state[key] = to_api(desired)
            else:  # delete
                seed_state[key] = to_api(desired)
                off_regions.append(region)
        lines += ["[[accounts]]", f'id = "{account_id}"', f'name = "{name}"', f'profile = "{profile}"']
        if off_regions:
            inner = ", ".join(f'"{region}" = "off"' for region in off_regions)
            lines.append(f"region_profiles = {{ {inner} }}")
        lines.append("")

    expected = {
        "targets": total,
        "accounts": accounts,
        "regions": regions,
        "create": n_create,
        "update": n_update,
        "delete": n_delete,
        "unchanged": n_unchanged,
        "failed": 0,
    }
    return "\n".join(lines), seed_state, desired_state, expected


def write(out_dir, accounts, regions, seed=8, all_create=False):
    os.makedirs(out_dir, exist_ok=True)
    fleet, seed_state, desired_state, expected = generate(accounts, regions, seed, all_create)
    paths = {
        "fleet": os.path.join(out_dir, "fleet.toml"),
        "seed": os.path.join(out_dir, "seed.json"),
        "desired": os.path.join(out_dir, "desired.json"),
        "expected": os.path.join(out_dir, "expected.json"),
    }
    with open(paths["fleet"], "w") as f:
        f.write(fleet)
    with open(paths["seed"], "w") as f:
        json.dump(seed_state, f, separators=(",", ":"), sort_keys=True)
    with open(paths["desired"], "w") as f:
        json.dump(desired_state, f, separators=(",", ":"), sort_keys=True)
    with open(paths["expected"], "w") as f:
        json.dump(expected, f, indent=2)
    return paths, expected


# A profile whose destinations fleet creates and keeps (the rollout row of
# bench/run): two buckets per account x region, a log group per account x
# region, one CloudWatch role per account.
MANAGED_PROFILE = {
    "text_data_delivery_enabled": True,
    "image_data_delivery_enabled": True,
    "embedding_data_delivery_enabled": True,
    "video_data_delivery_enabled": False,
    "audio_data_delivery_enabled": False,
    "s3_config": {
        "bucket_name": "bedrock-logs-{account_id}-{region}",
        "key_prefix": "bedrock",
        "bucket": {"expire_after_days": 365},
    },
    "cloudwatch_config": {
        "log_group_name": "/aws/bedrock/model-invocations",
        "role_arn": "arn:{partition}:iam::{account_id}:role/bedrock-cloudwatch-logging",
        "log_group": {"retention_in_days": 30},
        "role": {},
        "large_data_delivery_s3_config": {
            "bucket_name": "bedrock-large-{account_id}-{region}",
            "bucket": {},
        },
    },
}

def without_management(value):
    if isinstance(value, dict):
        return {k: without_management(v) for k, v in value.items() if k not in MANAGEMENT_KEYS}
    return value


def generate_rollout(accounts, regions):
    """A first rollout: nothing exists yet, every target a create, every
    destination managed by fleet. Returns (fleet file, desired state,
    expected counts)."""
    if regions > len(REGIONS):
        sys.exit(f"gen_fleet: at most {len(REGIONS)} regions (asked {regions})")
    region_list = REGIONS[:regions]
    total = accounts * regions
    lines = [
        f"# Generated by bench/gen_fleet.py: a first rollout of {accounts} accounts x "
        f"{regions} regions = {total} targets, destinations managed by fleet.",
        "",
        "[fleet]",
        f"regions = {toml_value(region_list)}",
        f'role_name = "{ROLE_NAME}"',
        "",
    ]
    render_profile(lines, "profiles.managed", MANAGED_PROFILE)
    desired_state = {}
    for a, account_id in enumerate(account_ids(accounts)):
        name = f"acct-{a:05d}"
        for region in region_list:
            config = expand(without_management(MANAGED_PROFILE), account_id, name, region)
            desired_state[f"{account_id}/{region}"] = to_api(config)
        lines += ["[[accounts]]", f'id = "{account_id}"', f'name = "{name}"',
                  'profile = "managed"', ""]
    expected = {
        "targets": total,
        "accounts": accounts,
        "regions": regions,
        "create": total,
        "update": 0,
        "delete": 0,
        "unchanged": 0,
        "failed": 0,
        # 2 buckets and a log group per target, a role per account.
        "destinations": 3 * total + accounts,
    }
    return "\n".join(lines), desired_state, expected


def write_rollout(out_dir, accounts, regions):
    os.makedirs(out_dir, exist_ok=True)
    fleet, desired_state, expected = generate_rollout(accounts, regions)
    paths = {
        "fleet": os.path.join(out_dir, "fleet.toml"),
        "desired": os.path.join(out_dir, "desired.json"),
    }
    with open(paths["fleet"], "w") as f:
        f.write(fleet)
    with open(paths["desired"], "w") as f:
        json.dump(desired_state, f, separators=(",", ":"), sort_keys=True)
    return paths, expected


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--regions", type=int, default=20)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--out", required=True, help="directory to write into")
    parser.add_argument("--all-create", action="store_true",
                        help="a first rollout: nothing live, every target a create")
    args = parser.parse_args()
    paths, expected = write(args.out, args.accounts, args.regions, args.seed, args.all_create)
    print(json.dumps({"paths": paths, "expected": expected}, indent=2))


if __name__ == "__main__":
    main()

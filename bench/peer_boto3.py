#!/usr/bin/env python3
"""The boto3 peer of `fleet plan` / `fleet apply`: the script a platform team
would write with boto3 and a thread pool, doing the same job on the same
fleet file.

- Reads the fleet file (tomllib), expands profiles and placeholders exactly
  as fleet does.
- sts:GetCallerIdentity once; sts:AssumeRole once per other account; one
  boto3 Session per account (or, with --session shared, one Session for all,
  the account's keys passed to each client); one Bedrock client per
  account x region, created in the per-account task (a Session is not
  thread-safe, clients are).
- ThreadPoolExecutor(max_workers=concurrency) over the targets: Get, compare
  with the desired configuration, and in apply mode Put (all five flags
  explicit) or Delete only the differences, then read each write back and
  compare, as fleet does.
- botocore Config(max_pool_connections=concurrency, retries standard,
  8 attempts, connect 5 s, read 20 s): fleet's settings.

    peer_boto3.py --config fleet.toml --mode plan|apply --concurrency 256

Endpoint and credentials come from the environment (AWS_ENDPOINT_URL,
AWS_ACCESS_KEY_ID, ...), as for fleet. Prints one line per change and the
summary line in fleet's words; exit code 0 when every target was read (plan)
or every change was applied and verified (apply).
"""

import argparse
import os
import sys
import threading
import tomllib
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config

FLAGS = [
    "textDataDeliveryEnabled",
    "imageDataDeliveryEnabled",
    "embeddingDataDeliveryEnabled",
    "videoDataDeliveryEnabled",
    "audioDataDeliveryEnabled",
]


def partition(region):
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def expand(text, account_id, account_name, region):
    return (
        text.replace("{account_id}", account_id)
        .replace("{account_name}", account_name)
        .replace("{region}", region)
        .replace("{partition}", partition(region))
    )


def s3_api(s3, fill):
    out = {"bucketName": fill(s3["bucket_name"])}
    if s3.get("key_prefix"):
        out["keyPrefix"] = fill(s3["key_prefix"])
    return out


def desired_config(profile, account_id, account_name, region):
    """A profile as the API's LoggingConfig (all five flags explicit), or
    None for a disabled profile."""
    if not profile.get("enabled", True):
        return None
    fill = lambda text: expand(text, account_id, account_name, region)  # noqa: E731
    config = {
        "textDataDeliveryEnabled": profile.get("text_data_delivery_enabled", True),
        "imageDataDeliveryEnabled": profile.get("image_data_delivery_enabled", True),
        "embeddingDataDeliveryEnabled": profile.get("embedding_data_delivery_enabled", True),
        "videoDataDeliveryEnabled": profile.get("video_data_delivery_enabled", True),
        "audioDataDeliveryEnabled": profile.get("audio_data_delivery_enabled", True),
    }
    if "s3_config" in profile:
        config["s3Config"] = s3_api(profile["s3_config"], fill)
    if "cloudwatch_config" in profile:
        cw = profile["cloudwatch_config"]
        out = {"logGroupName": fill(cw["log_group_name"]), "roleArn": fill(cw["role_arn"])}
        if "large_data_delivery_s3_config" in cw:
            out["largeDataDeliveryS3Config"] = s3_api(cw["large_data_delivery_s3_config"], fill)
        config["cloudWatchConfig"] = out
    return config


def canonical(live):
    """What AWS answered, in the form `desired_config` builds: flags AWS does
    not report are true, an empty key prefix is none, no destination is none."""
    if not live or ("s3Config" not in live and "cloudWatchConfig" not in live):
        return None

    def s3(cfg):
        out = {"bucketName": cfg["bucketName"]}
        if cfg.get("keyPrefix"):
            out["keyPrefix"] = cfg["keyPrefix"]
        return out

    config = {flag: live.get(flag, True) for flag in FLAGS}
    if "s3Config" in live:
        config["s3Config"] = s3(live["s3Config"])
    if "cloudWatchConfig" in live:
        cw = live["cloudWatchConfig"]
        out = {"logGroupName": cw["logGroupName"], "roleArn": cw["roleArn"]}
        if "largeDataDeliveryS3Config" in cw:
            out["largeDataDeliveryS3Config"] = s3(cw["largeDataDeliveryS3Config"])
        config["cloudWatchConfig"] = out
    return config


def load_targets(path):
    """[(account, region, desired)] and {account_id: (name, role_arn)}."""
    with open(path, "rb") as f:
        fleet = tomllib.load(f)
    settings = fleet.get("fleet", {})
    profiles = fleet.get("profiles", {})
    accounts, targets = {}, []
    for account in fleet.get("accounts", []):
        account_id = account["id"]
        name = account.get("name", account_id)
        regions = account.get("regions", settings.get("regions", []))
        role_arn = account.get("role_arn")
        if role_arn is None and settings.get("role_name"):
            role_arn = f"arn:{partition(regions[0])}:iam::{account_id}:role/{settings['role_name']}"
        accounts[account_id] = (name, role_arn, regions)
        overrides = account.get("region_profiles", {})
        for region in regions:
            profile = profiles[overrides.get(region, account["profile"])]
            targets.append((account_id, region, desired_config(profile, account_id, name, region)))
    return accounts, targets, settings


def action(live, desired):
    if live == desired:
        return "no-op"
    if live is None:
        return "create"
    if desired is None:
        return "delete"
    return "update"


def main():
    parser = argparse.ArgumentParser(description="boto3 peer of fleet plan/apply")
    parser.add_argument("--config", "-c", default="fleet.toml")
    parser.add_argument("--mode", choices=["plan", "apply"], default="plan")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"))
    parser.add_argument(
        "--session",
        choices=["per-account", "shared"],
        default="per-account",
        help="per-account: boto3.Session(credentials) per account, the usual pattern "
        "(each Session loads its own endpoint and service models); shared: one Session, "
        "credentials passed to each client (less memory and CPU)",
    )
    args = parser.parse_args()

    accounts, targets, settings = load_targets(args.config)
    config = Config(
        max_pool_connections=args.concurrency,
        retries={"mode": "standard", "max_attempts": 8},
        connect_timeout=5,
        read_timeout=20,
    )
    endpoint = args.endpoint_url
    base = boto3.Session()
    # fleet's default region for STS when none is configured.
    region = os.environ.get("AWS_REGION") or base.region_name or "us-east-1"
    sts = base.client("sts", region_name=region, endpoint_url=endpoint, config=config)
    caller = sts.get_caller_identity()["Account"]
    session_name = settings.get("session_name", "fleet")

    clients, errors = {}, {}
    lock, base_lock = threading.Lock(), threading.Lock()

    def open_account(account_id):
        """AssumeRole once, one Session, one client per region of the account."""
        name, role_arn, regions = accounts[account_id]
        try:
            keys = {}
            if account_id != caller:
                creds = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name)["Credentials"]
                keys = {
                    "aws_access_key_id": creds["AccessKeyId"],
                    "aws_secret_access_key": creds["SecretAccessKey"],
                    "aws_session_token": creds["SessionToken"],
                }
            if args.session == "per-account":
                session = boto3.Session(**keys) if keys else base
                made = {
                    (account_id, region): session.client(
                        "bedrock", region_name=region, endpoint_url=endpoint, config=config
                    )
                    for region in regions
                }
            else:
                # One Session for every account (its loaders and caches
                # shared), the account's keys given per client. A Session is
                # not thread-safe: create clients under a lock.
                with base_lock:
                    made = {
                        (account_id, region): base.client(
                            "bedrock", region_name=region, endpoint_url=endpoint,
                            config=config, **keys
                        )
                        for region in regions
                    }
            with lock:
                clients.update(made)
        except Exception as err:  # noqa: BLE001 - reported per target, as fleet does
            with lock:
                errors[account_id] = err

    def get(client):
        answer = client.get_model_invocation_logging_configuration()
        return canonical(answer.get("loggingConfig"))

    def run_target(target):
        account_id, region, desired = target
        if account_id in errors:
            return target, "failed", str(errors[account_id])
        client = clients[(account_id, region)]
        try:
            live = get(client)
        except Exception as err:  # noqa: BLE001
            return target, "failed", str(err)
        planned = action(live, desired)
        if args.mode == "plan" or planned == "no-op":
            return target, planned, None
        try:
            if desired is None:
                client.delete_model_invocation_logging_configuration()
            else:
                client.put_model_invocation_logging_configuration(loggingConfig=desired)
        except Exception as err:  # noqa: BLE001
            return target, planned, f"write failed: {err}"
        try:
            read_back = get(client)
        except Exception as err:  # noqa: BLE001
            return target, planned, f"unverified: {err}"
        if read_back != desired:
            return target, planned, "read back differs"
        return target, planned, None

    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        list(pool.map(open_account, accounts))
        results = list(pool.map(run_target, targets))

    counts = {"create": 0, "update": 0, "delete": 0, "no-op": 0, "failed": 0}
    failures = 0
    out = []
    for (account_id, region, _), planned, error in results:
        counts[planned] += 1
        tid = f"{accounts[account_id][0]}/{region}"
        if planned == "failed":
            failures += 1
            out.append(f"! failed {tid}: {error}")
        elif planned != "no-op":
            if error:
                failures += 1
                out.append(f"failed {tid} ({planned}): {error}")
            else:
                verb = "applied" if args.mode == "apply" else planned
                out.append(f"{verb} {tid}")
    out.append(
        f"Plan: {counts['create']} to create, {counts['update']} to update, "
        f"{counts['delete']} to delete, {counts['no-op']} unchanged, {counts['failed']} failed."
    )
    if args.mode == "apply":
        changes = counts["create"] + counts["update"] + counts["delete"]
        out.append(f"Apply: {changes - failures + counts['failed']} applied, {failures} failed.")
    sys.stdout.write("\n".join(out) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

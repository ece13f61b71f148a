"""``python -m dooragent --config FILE [--check]``."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from . import __version__, config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dooragent", description="Justface door agent")
    parser.add_argument("--config", required=True, help="the agent's TOML config file")
    parser.add_argument("--check", action="store_true", help="validate the config, print one line per problem")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    cfg, problems = config.load(args.config)
    if problems:
        for problem in problems:
            print(f"{args.config}: {problem}", file=sys.stderr)
        return 2
    if args.check:
        print(f"{args.config}: OK (door {cfg.door}, driver {cfg.driver['type']}, {len(cfg.public_keys)} key(s))")
        return 0
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    from .client import Agent

    try:
        agent = Agent(cfg)
    except (OSError, RuntimeError, ValueError) as exc:
        print(f"dooragent: cannot start: {exc}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, lambda *_: agent.stop())
    signal.signal(signal.SIGINT, lambda *_: agent.stop())
    logging.getLogger("dooragent").info("dooragent %s for door %s, driver %s", __version__, cfg.door, agent.driver.name)
    agent.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

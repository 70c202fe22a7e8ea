"""Hostile input at scale (issue 23): the battery of tests/hostile run for minutes
instead of seconds. Every parser and verifier an outsider reaches is fed generated
inputs (Hypothesis at volume) until its time is spent: the JS canonicaliser against
Node, the IPN signature check and field parsing, callback data and deep-link
tokens, the signed machine requests, the bot's handlers on hostile updates, and the
webhooks over a real socket. Prints inputs tried, crashes, accepted forgeries and
mismatches per target; exits 1 on any finding.

    python -m bench.bench_hostile_input                 # 60 s per target
    python -m bench.bench_hostile_input --seconds 600   # ten minutes each

Needs Node.js (`node` on PATH) for the canonicaliser target; it is skipped, and
said so, without it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from adapters.outbound.memory import InMemoryUnitOfWorkFactory
from tests.contract.http.shop import build_shop, nowpayments_gateway
from tests.hostile import live, targets
from tests.hostile.battery import Figures, Target, hammer, print_figures
from tests.unit.nowpayments.node_reference import NodeReference, find_node

UNLIMITED = 10**12


async def _hammered(target: Target, seconds: float) -> Figures:
    return await asyncio.to_thread(hammer, target, examples=UNLIMITED, seconds=seconds)


async def run(seconds: float) -> list[Figures]:
    rows = []
    node_path = find_node()
    node = NodeReference(node_path) if node_path else None
    try:
        plain: list[Target] = [
            targets.ipn_verifier(),
            targets.callback_parsers(),
            targets.offer_tokens(),
            targets.signed_requests(),
        ]
        if node is not None:
            plain.insert(0, targets.canonical_against_node(node))
        else:
            print("node is not installed: the canonicaliser is not compared with Node")  # noqa: T201
        for target in plain:
            rows.append(
                await asyncio.to_thread(hammer, target, examples=UNLIMITED, seconds=seconds)
            )
    finally:
        if node is not None:
            node.close()
    async with live.bot_updates() as target:
        rows.append(await _hammered(target, seconds))
    shop = build_shop(InMemoryUnitOfWorkFactory())
    async with nowpayments_gateway() as gateway, live.http_edge(shop, gateway) as target:
        rows.append(await _hammered(target, seconds))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="time per target (default 60)")
    args = parser.parse_args()
    rows = asyncio.run(run(args.seconds))
    print_figures(f"hostile input at scale, {args.seconds:g} s per target", rows)
    total = sum(row.tried for row in rows)
    findings = [row for row in rows if row.finding is not None]
    print(f"   {total} inputs in all; {len(findings)} targets with a finding")  # noqa: T201
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())

"""The official Python SDK's tool runner on the conversation `benches/threads.rs`
scripts: `python sdk_runner.py URL RUNS TURNS` runs RUNS runs of TURNS turns at
once against the scripted server at URL and prints the seconds they took."""

import sys
import time
import asyncio

import anthropic
from anthropic import beta_async_tool


@beta_async_tool
async def add(a: int, b: int) -> str:
    """Add two integers."""
    return str(a + b)


async def one_run(client: anthropic.AsyncAnthropic, turns: int) -> int:
    runner = client.beta.messages.tool_runner(
        model="bench",
        max_tokens=256,
        system="You count.",
        messages=[{"role": "user", "content": "Count up."}],
        tools=[add],
        max_iterations=turns,
    )
    count = 0
    async for _message in runner:
        count += 1
    return count


async def main(url: str, runs: int, turns: int) -> None:
    client = anthropic.AsyncAnthropic(base_url=url, api_key="bench", max_retries=0)
    started = time.perf_counter()
    counts = await asyncio.gather(*(one_run(client, turns) for _ in range(runs)))
    elapsed = time.perf_counter() - started
    if counts != [turns] * runs:
        sys.exit(f"expected {turns} turns per run, got {sorted(set(counts))}")
    print(elapsed)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))

"""The official Python SDK's tool runner on the conversation `benches/caching.rs`
scripts: `python sdk_caching.py URL TURNS SYSTEM` runs one run of TURNS turns
against the scripted server at URL, with SYSTEM as the system prompt and the
SDK's defaults otherwise, and prints the usage of its replies summed, as JSON."""

import sys
import json
import asyncio

import anthropic
from anthropic import beta_async_tool


@beta_async_tool
async def add(a: int, b: int) -> str:
    """Add two integers."""
    return str(a + b)


async def main(url: str, turns: int, system: str) -> None:
    client = anthropic.AsyncAnthropic(base_url=url, api_key="bench", max_retries=0)
    runner = client.beta.messages.tool_runner(
        model="bench",
        max_tokens=256,
        system=system,
        messages=[{"role": "user", "content": "Count up."}],
        tools=[add],
        max_iterations=turns,
    )
    totals = {
        "requests": 0,
        "input_tokens": 0,
        "output_tokens": 0,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }
    async for message in runner:
        usage = message.usage
        totals["requests"] += 1
        totals["input_tokens"] += usage.input_tokens
        totals["output_tokens"] += usage.output_tokens
        totals["cache_creation_input_tokens"] += usage.cache_creation_input_tokens or 0
        totals["cache_read_input_tokens"] += usage.cache_read_input_tokens or 0
    if totals["requests"] != turns:
        sys.exit(f"expected {turns} turns, got {totals['requests']}")
    print(json.dumps(totals))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3]))

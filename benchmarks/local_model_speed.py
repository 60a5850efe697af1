"""Claim: the local llama.cpp server's prompt and generation speed on this machine, 1 vs 4 concurrent requests.

Starts the local model server the way llamac does (one thread, requests queue) unless
LLAMAC_LOCAL_URL names a running one, then sends requests of about ``--prompt-tokens`` prompt tokens
and exactly ``--gen-tokens`` generated tokens (``min_tokens`` = ``max_tokens``). Each prompt begins
with a fresh nonce so no prefix cache helps. Prompt speed comes from a ``max_tokens=1`` call (its
latency is the prompt evaluation); generation speed from a streamed call (tokens after the first
one over the time after the first one). With 4 concurrent requests the server serves them one at a
time: the aggregate throughput and the per-request latency show what queueing costs.

    .venv/bin/python benchmarks/local_model_speed.py [--reps 2] [--prompt-tokens 1150] [--gen-tokens 150]
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

from openai import AsyncOpenAI

from llamac.runtime.local_model import LocalModelServer
from llamac.runtime.settings import Settings

FILLER = (
    "Rule {i}: an agent standing next to a box may push it one cell along a free row or column; two "
    "agents may not enter the same cell in one step, and a box that reaches its goal is removed. "
)


def prompt(target_tokens: int) -> str:
    # About 48 tokens per rule sentence with the Qwen tokenizer.
    return f"Session {uuid.uuid4().hex}.\n" + "".join(FILLER.format(i=i) for i in range(max(1, target_tokens // 48)))


async def prompt_speed(client: AsyncOpenAI, model: str, n_tokens: int) -> tuple[int, float]:
    started = time.perf_counter()
    answer = await client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": prompt(n_tokens) + "\nSay OK."}],
        max_tokens=1,
        temperature=0,
        extra_body={"repeat_penalty": 1.0},
    )
    return answer.usage.prompt_tokens, time.perf_counter() - started


async def streamed(client: AsyncOpenAI, model: str, n_prompt: int, n_gen: int) -> dict[str, float]:
    """One streamed request: time to first token, generation rate after it, total latency."""
    started = time.perf_counter()
    first = None
    tokens = 0
    stream = await client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": prompt(n_prompt) + "\nRestate every rule above in your own words."}],
        max_tokens=n_gen,
        temperature=0,
        stream=True,
        extra_body={"repeat_penalty": 1.0, "min_tokens": n_gen},
    )
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            tokens += 1
            if first is None:
                first = time.perf_counter()
    done = time.perf_counter()
    first = first or done
    return {
        "ttft_s": first - started,
        "gen_tokens": tokens,
        "gen_tok_s": (tokens - 1) / (done - first) if tokens > 1 and done > first else 0.0,
        "latency_s": done - started,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--prompt-tokens", type=int, default=1150)
    parser.add_argument("--gen-tokens", type=int, default=150)
    args = parser.parse_args()
    settings = Settings()
    with LocalModelServer.from_settings(settings) as server:
        client = AsyncOpenAI(base_url=server.url, api_key="no-key-needed", max_retries=0, timeout=900)
        model = settings.local_model_name()
        await prompt_speed(client, model, 64)  # warm-up: load pages of the model file

        prompt_rates = []
        for _ in range(args.reps):
            n, seconds = await prompt_speed(client, model, args.prompt_tokens)
            prompt_rates.append(n / seconds)
        single = [await streamed(client, model, args.prompt_tokens, args.gen_tokens) for _ in range(args.reps)]

        started = time.perf_counter()
        concurrent = await asyncio.gather(
            *(streamed(client, model, args.prompt_tokens, args.gen_tokens) for _ in range(4))
        )
        wall4 = time.perf_counter() - started

    n_prompt = n
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    single_latency = mean([r["latency_s"] for r in single])
    print(f"model {settings.local_model}, {settings.resolved_local_threads()} thread(s), prompt {n_prompt} tokens, "
          f"generation {args.gen_tokens} tokens, {args.reps} repetitions")
    print(f"prompt evaluation:            {mean(prompt_rates):7.1f} tok/s (runs: "
          + ", ".join(f"{r:.1f}" for r in prompt_rates) + ")")
    print(f"generation, 1 request:        {mean([r['gen_tok_s'] for r in single]):7.1f} tok/s")
    print(f"latency, 1 request:           {single_latency:7.1f} s")
    print(f"generation, 4 concurrent:     {mean([r['gen_tok_s'] for r in concurrent]):7.1f} tok/s per request "
          "(served one at a time)")
    total_tokens4 = 4 * (n_prompt + args.gen_tokens)
    total_tokens1 = n_prompt + args.gen_tokens
    print(f"throughput 1 request:         {total_tokens1 / single_latency:7.1f} tok/s (prompt + generated)")
    print(f"throughput 4 concurrent:      {total_tokens4 / wall4:7.1f} tok/s over {wall4:.1f} s wall")
    print(f"ratio 4-concurrent/1 throughput: {(total_tokens4 / wall4) / (total_tokens1 / single_latency):.2f}")
    print(f"latency 4 concurrent:         mean {mean([r['latency_s'] for r in concurrent]):.1f} s, "
          f"max {max(r['latency_s'] for r in concurrent):.1f} s (x{max(r['latency_s'] for r in concurrent) / single_latency:.2f} of one)")


if __name__ == "__main__":
    asyncio.run(main())

"""The citizen's form on a phone (issue 15): how many screens each step is at 360 × 740 px in
Chromium, and how long a scripted citizen takes to answer every question, as a ratio to
opening the first step in the same run (machines here are shared and noisy).

    python benchmarks/citizen_form.py            # sipas-2023, Vietnamese
    python benchmarks/citizen_form.py --lang en
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def serve(data_dir: str):
    from werkzeug.serving import make_server

    from survey_app import create_app
    from survey_app.commands.server import initialise
    from tests.support import seed_org

    app = create_app({"TESTING": True, "SIPAS_DATA_DIR": data_dir, "SIPAS_SECRET_KEY": "bench",
                      "SIPAS_PASSWORD_HASH": "scrypt:1024:8:1", "SIPAS_PUBLIC_URL": "https://bench.invalid",
                      "SIPAS_COUNTER_RATE_LIMIT": "100000 per minute"})
    with app.app_context():
        initialise()
        seed_org()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return app, f"http://127.0.0.1:{server.server_port}"


def run(lang: str, repeats: int) -> dict:
    from playwright.sync_api import sync_playwright

    import questionnaires
    from tests.support import answer_in_steps, issue_codes

    q = questionnaires.load("sipas-2023")
    taps = {c.code: "4" for c in q.criteria} | {"HL": "4", "feedback_given": "co", "respondent_type": "ca_nhan"}
    taps |= {e.code: "2" for e in q.expectations}
    with tempfile.TemporaryDirectory() as data_dir:
        app, base = serve(data_dir)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
            opens, answers, screens = [], [], []
            for _ in range(repeats):
                [code] = issue_codes(app)
                context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                              device_scale_factor=2)
                page = context.new_page()
                start = time.perf_counter()
                page.goto(f"{base}/s/{code}?lang={lang}")
                opens.append(time.perf_counter() - start)
                heights: list[float] = []

                def measure(pg, heights=heights) -> None:
                    heights.append(pg.evaluate("document.documentElement.scrollHeight") / 740)

                start = time.perf_counter()
                steps = answer_in_steps(page, taps, selects={"age_group": "35-49"}, comment="Tốt", on_step=measure)
                answers.append(time.perf_counter() - start)
                screens.append(heights)
                context.close()
                assert steps == len(heights)
            browser.close()
    return {"lang": lang, "open": statistics.median(opens), "answer": statistics.median(answers),
            "screens": screens[0], "steps": len(screens[0])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lang", default="vi", choices=["vi", "en"])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    r = run(args.lang, args.repeats)
    print(f"### Citizen form at 360 × 740 px ({r['lang']}), {r['steps']} steps\n")
    print("| step | " + " | ".join(str(i + 1) for i in range(r["steps"])) + " |")
    print("|---|" + "---:|" * r["steps"])
    print("| screens | " + " | ".join(f"{s:.1f}" for s in r["screens"]) + " |\n")
    print(f"Opening the first step: {r['open']:.2f} s (baseline). A scripted citizen answering every question "
          f"through all steps: {r['answer']:.2f} s = {r['answer'] / r['open']:.1f} × the baseline (median of "
          f"{args.repeats}).")


if __name__ == "__main__":
    main()

"""readme_watermark.py README ROWS [--without-prepare-threshold] [--polls N]:
run the README's watermark reader (the Python block of its section
"Incremental readers") as it is written, where PGHOST, PGPORT, PGDATABASE and
PGUSER say, with handle(row) collecting the rows it reads.  It stops once it
has handled ROWS rows, or after N polls (its time.sleep calls) when --polls
is given.  Prints "poll P" at each poll (so that a caller can wait for the
reader to be under way), then "rows R distinct D sum S polls P".  With
--without-prepare-threshold, the snippet's prepare_threshold=None is taken
out first, to show what it is for.  An error of the snippet ends this
program with the error, as it would end the reader."""
import re
import sys
import time

import psycopg

readme, wanted = sys.argv[1], int(sys.argv[2])
max_polls = int(sys.argv[sys.argv.index("--polls") + 1]) if "--polls" in sys.argv else None

with open(readme, encoding="utf-8") as f:
    text = f.read()
section = text[text.index("## Incremental readers"):]
section = section[:section.index("\n## ", 1)]
code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
if "--without-prepare-threshold" in sys.argv:
    if ", prepare_threshold=None" not in code:
        sys.exit("the README's reader has no prepare_threshold=None to take out")
    code = code.replace(", prepare_threshold=None", "")

seen = []
polls = 0


class Done(Exception):
    """Raised to end the snippet's endless loop."""


def handle(row):
    """The snippet's handler: collect the row; done once ROWS are in."""
    seen.append(row[0])
    if len(seen) >= wanted:
        raise Done


class Clock:
    """The snippet's time module: counts its polls (sleeps)."""

    @staticmethod
    def sleep(seconds):
        global polls
        polls += 1
        print("poll %d" % polls, flush=True)
        if max_polls is not None and polls >= max_polls:
            raise Done
        time.sleep(seconds)


try:
    exec(code, {"psycopg": psycopg, "time": Clock, "handle": handle})
except Done:
    pass
print("rows %d distinct %d sum %d polls %d" % (len(seen), len(set(seen)), sum(seen), polls))

"""psycopg 3 and an idgen-keyed table: INSERT ... RETURNING, executemany
with RETURNING, and COPY with a block of IDs from next_id_range().
Connects where PGHOST, PGPORT, PGDATABASE and PGUSER say."""
import psycopg

with psycopg.connect() as conn:
    inserted = {}  # key -> item

    # one row: the database picks the key, RETURNING hands it back
    row = conn.execute(
        "INSERT INTO py_orders (item) VALUES (%s) RETURNING id", ("apple",)
    ).fetchone()
    inserted[row[0]] = "apple"

    # many rows in one call, each key returned
    items = [f"pear {i}" for i in range(200)]
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO py_orders (item) VALUES (%s) RETURNING id",
            [(item,) for item in items],
            returning=True,
        )
        for item in items:
            inserted[cur.fetchone()[0]] = item
            cur.nextset()

    # COPY: the client takes a block of IDs [lo, hi) and numbers rows itself
    lo, hi = conn.execute(
        "SELECT lower(r), upper(r) FROM next_id_range('py_orders', 1000) AS r"
    ).fetchone()
    with conn.cursor().copy("COPY py_orders (id, item) FROM STDIN") as copy:
        for key in range(lo, hi):
            copy.write_row((key, f"plum {key}"))
            inserted[key] = f"plum {key}"
    conn.commit()

    assert len(inserted) == 1 + len(items) + (hi - lo), "duplicate keys"
    stored = dict(conn.execute("SELECT id, item FROM py_orders").fetchall())
    for key, item in inserted.items():
        assert stored.get(key) == item, f"key {key}: stored {stored.get(key)!r}, not {item!r}"

print(f"psycopg {psycopg.__version__}: {len(inserted)} distinct keys, each stored as returned")

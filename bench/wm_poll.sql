-- the reader of the watermark phase: take the watermark, then (a new
-- statement, a new snapshot) record how far it trails the rows visible
-- above it, in IDs and in milliseconds since the oldest of them was
-- inserted; about every 10 ms
SELECT idgen.watermark('idgen_bench_wm') AS w \gset
INSERT INTO idgen_bench.wm_lag
SELECT coalesce(max(id) - :w, 0),
       coalesce(extract(epoch FROM clock_timestamp() - min(at)) * 1000, 0)
  FROM idgen_bench.wm WHERE id > :w;
\sleep 10 ms

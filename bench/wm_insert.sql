INSERT INTO idgen_bench.wm (n) VALUES (1);

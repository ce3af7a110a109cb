INSERT INTO idgen_bench.ins_pgedge (n) VALUES (1);

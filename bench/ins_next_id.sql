INSERT INTO idgen_bench.ins_next_id (n) VALUES (1);
